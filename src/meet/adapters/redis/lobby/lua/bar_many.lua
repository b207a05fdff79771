-- Write bars through to the cache, ending at one instant. args: identities, until_ms, cache_ttl.
for _, identity in ipairs(args.identities) do bar(identity, args.until_ms, args.cache_ttl) end
return 1
