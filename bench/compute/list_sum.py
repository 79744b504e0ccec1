# Builds a list of 1,000,000 ints by appending one element at a time, then
# sums it with a for loop. Same algorithm as list_sum.flow and list_sum.lua
# (no sum() or list(range()): plain loops in every language).
def main():
    xs = []
    i = 0
    while i < 1000000:
        xs.append(i)
        i = i + 1
    total = 0
    for x in xs:
        total = total + x
    return total


print(main())
