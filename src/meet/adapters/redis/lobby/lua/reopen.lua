-- An admin opens an ended meeting again (their join during the grace period). args: by, now.
-- Returns 1 when it was ended.
return reopen(args.by, args.now) and 1 or 0
