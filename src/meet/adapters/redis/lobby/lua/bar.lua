-- Write one bar through to the cache. args: identity, until_ms, cache_ttl.
bar(args.identity, args.until_ms, args.cache_ttl)
return 1
