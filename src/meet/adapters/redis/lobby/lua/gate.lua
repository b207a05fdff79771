-- Only the gate of a knock, for whoever enters directly: then the door. args: now, gate.
local refused = gate(args.gate, args.now)
if refused then return refused end
local kept_out = shut(args.gate, args.now, true)
if kept_out then return kept_out end
return {'ok'}
