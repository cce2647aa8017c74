-- bench/urls.lua: wrk script that replays a list of request paths (presigned
-- S3 URLs without scheme and host, or plain nginx paths), round-robin, each
-- wrk thread on its own slice of the list (paths i with i % nthreads == tid).
--
--   wrk -t2 -c16 -d10s -s bench/urls.lua http://127.0.0.1:PORT -- PATHS_FILE [BODY_FILE [MODE]]
--
-- Without BODY_FILE: GET. With BODY_FILE: PUT of that file's bytes.
-- MODE "static": build every request of the thread once in init() (for large
-- bodies: formatting a 64 MiB request per request would measure Lua, not the
-- server); default "dynamic": format each request (small bodies).

local counter = 0
tid = 0            -- global: set per thread by setup() through thread:set
local nthreads = 1
local paths, reqs = {}, {}
local idx = 0
local body = nil
local method = "GET"

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
end

local function read_file(name)
   local f = assert(io.open(name, "rb"))
   local s = f:read("*a")
   f:close()
   return s
end

function init(args)
   local file = args[1]
   local body_file = args[2]
   local mode = args[3] or "dynamic"
   nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
   local all = {}
   for line in io.lines(file) do
      if #line > 0 then all[#all + 1] = line end
   end
   for i = 1, #all do
      if nthreads <= 1 or ((i - 1) % nthreads) == tid then paths[#paths + 1] = all[i] end
   end
   if #paths == 0 then paths = all end
   if body_file and #body_file > 0 then
      body = read_file(body_file)
      method = "PUT"
   end
   if mode == "static" then
      for i = 1, #paths do
         reqs[i] = wrk.format(method, paths[i], nil, body)
      end
   end
   idx = 0
end

function request()
   idx = idx % #paths + 1
   if reqs[idx] then return reqs[idx] end
   return wrk.format(method, paths[idx], nil, body)
end
