# Sum of i % 7 for i below 10,000,000 in a while loop: the interpreter's
# dispatch loop on integer arithmetic, compare and branch.
# Same algorithm as loop_mod.flow and loop_mod.lua. The loop is inside a
# function so that its variables are fast locals, as any Python programmer
# would write it (module-level globals would make CPython slower).
def main():
    total = 0
    i = 0
    while i < 10000000:
        total = total + i % 7
        i = i + 1
    return total


print(main())
