-- Builds 200,000 strings "item"..i (int to string, concatenation, a fresh
-- heap string each time) and adds up their lengths.
-- Same algorithm as strings.flow and strings.py.
local function main()
  local total = 0
  local i = 0
  while i < 200000 do
    local s = "item" .. i
    total = total + #s
    i = i + 1
  end
  return total
end

print(main())
