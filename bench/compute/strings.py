# Builds 200,000 strings f"item{i}" (int to string, concatenation, a fresh
# heap string each time) and adds up their lengths.
# Same algorithm as strings.flow and strings.lua.
def main():
    total = 0
    i = 0
    while i < 200000:
        s = f"item{i}"
        total = total + len(s)
        i = i + 1
    return total


print(main())
