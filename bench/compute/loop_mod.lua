-- Sum of i % 7 for i below 10,000,000 in a while loop: the interpreter's
-- dispatch loop on integer arithmetic, compare and branch.
-- Same algorithm as loop_mod.flow and loop_mod.py (locals in a function, as
-- any Lua programmer would write it).
local function main()
  local total = 0
  local i = 0
  while i < 10000000 do
    total = total + i % 7
    i = i + 1
  end
  return total
end

print(main())
