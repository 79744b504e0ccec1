-- Builds a list of 1,000,000 ints by appending one element at a time, then
-- sums it with a for loop. Same algorithm as list_sum.flow and list_sum.py.
local function main()
  local xs = {}
  local i = 0
  while i < 1000000 do
    xs[#xs + 1] = i
    i = i + 1
  end
  local total = 0
  for _, x in ipairs(xs) do
    total = total + x
  end
  return total
end

print(main())
