-- Attribution for Wireshark: the processes `attribution analyze --annotate` (or `attribution extract`)
-- wrote into each packet's comments, as fields you can filter on and show as columns:
--
--   attribution.pid  attribution.comm  attribution.exe  attribution.method  attribution.reason
--   attribution.container  attribution.container_id  attribution.addr  (one set per local end: a loopback packet has two)
--   attribution.remote_name  attribution.remote_name_source  (the far end's name, where the capture gave one)
--
--   attribution.comm == "curl"          attribution.pid == 4242        attribution.reason == "time-wait"
--   attribution.remote_name contains "example.com"
--
-- Install: cp contrib/wireshark/attribution.lua ~/.local/lib/wireshark/plugins/
-- Or for one run: tshark -X lua_script:contrib/wireshark/attribution.lua -r X.annotated.pcapng
--
-- The comment grammar (src/Attribution.Analyzer/Annotation/AnnotationText.cs):
--   attribution: ADDR[:PORT] COMM[PID] EXE (method METHOD)[ container NAME (ID)| container ID]
--   (attribution.container is the container's name where the recorder read it, else its id)
--   attribution: ADDR[:PORT] unattributed (REASON)
--   attribution: unattributed (REASON)
--   attribution: ADDR[:PORT] remote_name NAME (SOURCE)   (the far end ADDR's name: sni, http-host, dns-same-process, ...)
--   attribution: ADDR[:PORT] chain COMM[PID] < PARENT[PID] ...   (the end's process's ancestry, once per process and file)

local proto = Proto("attribution", "Attribution (process of each local end)")

local f = {
    pid       = ProtoField.uint32("attribution.pid", "PID"),
    comm      = ProtoField.string("attribution.comm", "Command"),
    exe       = ProtoField.string("attribution.exe", "Executable"),
    method    = ProtoField.string("attribution.method", "Method"),
    reason    = ProtoField.string("attribution.reason", "Unattributed because"),
    container = ProtoField.string("attribution.container", "Container"),
    container_id = ProtoField.string("attribution.container_id", "Container id"),
    addr      = ProtoField.string("attribution.addr", "Local end"),
    remote_name = ProtoField.string("attribution.remote_name", "Far end's name"),
    chain = ProtoField.string("attribution.chain", "Process ancestry"),
    remote_name_source = ProtoField.string("attribution.remote_name_source", "Far end's name from"),
    remote_addr = ProtoField.string("attribution.remote_addr", "Named far end"),
}
proto.fields = { f.pid, f.comm, f.exe, f.method, f.reason, f.container, f.container_id, f.addr,
                 f.remote_name, f.remote_name_source, f.remote_addr, f.chain }

local comment_field = Field.new("frame.comment")

-- One comment into its parts, or nil when the comment is not ours.
local function parse(text)
    local body = text:match("^attribution: (.*)$")
    if not body then return nil end
    local e = {}
    local rest = body
    if not body:match("^unattributed %(") then
        e.addr, rest = body:match("^(%S+) (.*)$")
        if not rest then return nil end
    end
    -- The far end's name: one word (the analyzer writes other bytes as \xNN), then its source.
    local name, source = rest:match("^remote_name (%S+) %(([%w-]+)%)$")
    if name then
        e.remote_addr, e.addr = e.addr, nil
        e.remote_name, e.remote_name_source = name, source
        return e
    end
    e.chain = rest:match("^chain (.+)$")
    if e.chain then return e end
    e.reason = rest:match("^unattributed %(([^)]*)%)")
    if e.reason then return e end
    local comm, pid, exe, method, tail = rest:match("^(.-)%[(%d+)%] (.-) %(method ([^)]*)%)(.*)$")
    if not comm then return nil end
    e.comm, e.pid, e.exe, e.method = comm, tonumber(pid), exe, method
    e.container, e.container_id = tail:match("container (%S+) %((%x+)%)")
    if not e.container then
        e.container = tail:match("container (%S+)")
        e.container_id = e.container
    end
    return e
end

function proto.dissector(tvb, pinfo, tree)
    local comments = { comment_field() }
    if #comments == 0 then return end
    local summary = {}
    for _, fi in ipairs(comments) do
        local e = parse(tostring(fi.value))
        if e and e.remote_name then
            local sub = tree:add(proto, string.format("%s %s (%s)", e.remote_addr or "", e.remote_name, e.remote_name_source))
            if e.remote_addr then sub:add(f.remote_addr, e.remote_addr) end
            sub:add(f.remote_name, e.remote_name)
            sub:add(f.remote_name_source, e.remote_name_source)
            summary[#summary + 1] = "-> " .. e.remote_name
        elseif e and e.chain then
            local sub = tree:add(proto, string.format("%s %s", e.addr or "", e.chain))
            if e.addr then sub:add(f.addr, e.addr) end
            sub:add(f.chain, e.chain)
        elseif e then
            local label = e.comm and string.format("%s %s[%d] (%s)", e.addr or "", e.comm, e.pid, e.method)
                or string.format("%s unattributed (%s)", e.addr or "", e.reason)
            local sub = tree:add(proto, label)
            if e.addr then sub:add(f.addr, e.addr) end
            if e.pid then sub:add(f.pid, e.pid) end
            if e.comm then sub:add(f.comm, e.comm) end
            if e.exe then sub:add(f.exe, e.exe) end
            if e.method then sub:add(f.method, e.method) end
            if e.reason then sub:add(f.reason, e.reason) end
            if e.container then sub:add(f.container, e.container) end
            if e.container_id then sub:add(f.container_id, e.container_id) end
            summary[#summary + 1] = e.comm and string.format("%s[%d]", e.comm, e.pid) or ("-" .. e.reason)
        end
    end
    if #summary > 0 then pinfo.cols.info:prepend("[" .. table.concat(summary, " ") .. "] ") end
end

register_postdissector(proto)
