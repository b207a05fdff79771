-- One wrk script for every scenario, driven by environment variables:
--   WRK_METHOD, WRK_BODY, WRK_HEADERS ("Name: value" lines)
--   WRK_ROTATE_FILE: one value per line. Thread i of n uses lines i, i+n, i+2n, ... so no two threads send
--     the same value, and a file longer than the run is never replayed (distinct webhook event ids).
--   WRK_ROTATE_HEADER: the header that takes the value, or "webhook" for "<jwt>\t<body>" lines
--   WRK_THREADS: wrk's -t, so each thread knows its share of the file.
-- done() prints one line "WRK_JSON {...}" that bench/wrk.py parses.

local method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
local rotate_file = os.getenv("WRK_ROTATE_FILE")
local rotate_header = os.getenv("WRK_ROTATE_HEADER")
local thread_count = tonumber(os.getenv("WRK_THREADS") or "1")
local headers = {}
for line in string.gmatch(os.getenv("WRK_HEADERS") or "", "[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end

local values = {}
local position = 0
local wrapped = 0
local next_index = 0

function setup(thread)
  thread:set("thread_index", next_index)
  next_index = next_index + 1
end

function init(args)
  if rotate_file then
    local line_number = 0
    for line in io.lines(rotate_file) do
      if line_number % thread_count == thread_index then values[#values + 1] = line end
      line_number = line_number + 1
    end
  end
end

function request()
  local request_headers = {}
  for name, value in pairs(headers) do request_headers[name] = value end
  local request_body = body
  if #values > 0 then
    position = position + 1
    if position > #values then
      position = 1
      wrapped = wrapped + 1
    end
    local value = values[position]
    if rotate_header == "webhook" then
      local jwt, payload = value:match("^([^\t]+)\t(.*)$")
      request_headers["Authorization"] = jwt
      request_body = payload
    else
      request_headers[rotate_header] = value
    end
  end
  return wrk.format(method, nil, request_headers, request_body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'WRK_JSON {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_timeout":%d,"non_2xx":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
end
