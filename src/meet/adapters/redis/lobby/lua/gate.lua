-- Only the gate of a knock. args: now, gate.
local refused = gate(args.gate, args.now)
if refused then return refused end
return {'ok'}
