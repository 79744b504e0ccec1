# One call of 100 ms: reads {"n": N}, answers {"n": N}.
read -r input
sleep 0.1
printf '%s\n' "$input"
