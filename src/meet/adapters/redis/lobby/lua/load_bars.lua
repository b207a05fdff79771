-- Fill the bars cache from the durable bars: marked loaded by the member '' at +inf, so a cache that was
-- lost or evicted is seen as cold, never as "nobody barred". args: cache_ttl, bars ({identity, until}).
for _, b in ipairs(args.bars) do bar(b[1], b[2], args.cache_ttl) end
redis.call('ZADD', bars, '+inf', '')
redis.call('PEXPIRE', bars, args.cache_ttl)
return 1
