-- One wrk script for every scenario, driven by environment variables:
--   WRK_METHOD, WRK_BODY, WRK_HEADERS ("Name: value" lines)
--   WRK_ROTATE_FILE: one value per line, used in turn by each thread, starting at a different offset
--   WRK_ROTATE_HEADER: the header that takes the value, or "webhook" for "<jwt>\t<body>" lines
-- done() prints one line "WRK_JSON {...}" that bench/run.py parses.

local method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
local rotate_file = os.getenv("WRK_ROTATE_FILE")
local rotate_header = os.getenv("WRK_ROTATE_HEADER")
local headers = {}
for line in string.gmatch(os.getenv("WRK_HEADERS") or "", "[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end

local values = {}
local position = 0
local thread_index = 0

function setup(thread)
  thread:set("thread_index", thread_index)
  thread_index = thread_index + 1
end

function init(args)
  if rotate_file then
    for line in io.lines(rotate_file) do values[#values + 1] = line end
    if #values > 0 then position = (thread_index * 7919) % #values end
  end
end

function request()
  local request_headers = {}
  for name, value in pairs(headers) do request_headers[name] = value end
  local request_body = body
  if #values > 0 then
    position = position % #values + 1
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
