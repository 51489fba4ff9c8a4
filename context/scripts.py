"""The customer store's server-side scripts.

On one Redis a script may reach any key, so a lookup resolves phone or email to the customer
and reads the record in one call, and an upsert keeps the indexes in step atomically. On a
Redis Cluster a script runs on the node of its KEYS and may touch only keys of their slot:
there the store runs LOOKUP on a customer's own keys, SAVE for the record and DROP_INDEX per
index entry, and never UPSERT or UNINDEX.
"""

from __future__ import annotations

# KEYS: profile, log (a customer's, by id); none on one Redis to resolve a phone or email.
# ARGV: kind (id, phone, email), value, how many log entries, prefix.
LOOKUP = """
local profile_key, log_key = KEYS[1], KEYS[2]
if not profile_key then
  local id = ARGV[2]
  if ARGV[1] ~= 'id' then
    id = redis.call('GET', ARGV[4] .. ':' .. ARGV[1] .. ':' .. ARGV[2])
    if not id then return false end
  end
  profile_key = ARGV[4] .. ':c:{' .. id .. '}'
  log_key = profile_key .. ':log'
end
local profile = redis.call('GET', profile_key)
if not profile then return false end
return {profile, redis.call('LRANGE', log_key, -tonumber(ARGV[3]), -1)}
"""

# One Redis only. KEYS: a hash to read as well (a conversation). ARGV: kind, value, how many log
# entries, prefix, then the hash's fields. Returns {fields, language} or {fields, language,
# profile, log}, where language is the one remembered for the phone (`pz:lang:<phone>`, ''
# when none or when the kind is not a phone): the first turn of a call reads its
# conversation, finds its caller and the language they chose last time in one round trip.
LOOKUP_BESIDE = """
local read = redis.call('HMGET', KEYS[1], unpack(ARGV, 5))
local language = ''
if ARGV[1] == 'phone' then
  language = redis.call('GET', ARGV[4] .. ':lang:' .. ARGV[2]) or ''
end
local id = ARGV[2]
if ARGV[1] ~= 'id' then
  id = redis.call('GET', ARGV[4] .. ':' .. ARGV[1] .. ':' .. ARGV[2])
  if not id then return {read, language} end
end
local profile_key = ARGV[4] .. ':c:{' .. id .. '}'
local profile = redis.call('GET', profile_key)
if not profile then return {read, language} end
return {read, language, profile,
        redis.call('LRANGE', profile_key .. ':log', -tonumber(ARGV[3]), -1)}
"""

# KEYS: profile, log, seen. ARGV: key, contact json.
RECORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SADD', KEYS[3], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
"""

# KEYS: log. ARGV: channel, ref, words to add to the contact's reason, how many entries back
# to look. Returns 1 when the newest contact with that channel and ref was amended, else 0.
AMEND = """
local entries = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[4]), -1)
local length = redis.call('LLEN', KEYS[1])
for i = #entries, 1, -1 do
  local contact = cjson.decode(entries[i])
  if contact.channel == ARGV[1] and contact.ref == ARGV[2] then
    local reason = contact.reason or ''
    if reason ~= '' then reason = reason .. '; ' end
    contact.reason = reason .. ARGV[3]
    redis.call('LSET', KEYS[1], length - #entries + i - 1, cjson.encode(contact))
    return 1
  end
end
return 0
"""

# The start of UPSERT and UNINDEX: drop the phone and email index entries the stored profile
# (KEYS[1]) had, where they still point at this customer (ARGV[2]).
_DROP_OLD_INDEXES = """
local prefix, id = ARGV[1], ARGV[2]
local old = redis.call('GET', KEYS[1])
if old then
  local o = cjson.decode(old)
  for _, p in ipairs(o.phones) do
    local k = prefix .. ':phone:' .. p
    if redis.call('GET', k) == id then redis.call('DEL', k) end
  end
  if type(o.email) == 'string' and o.email ~= '' then
    local k = prefix .. ':email:' .. o.email
    if redis.call('GET', k) == id then redis.call('DEL', k) end
  end
end
"""

# The language a caller chose (remember_language) outlives an import that does not name one:
# the new profile (NEW) gets the stored one (`old`, read before) when it has none. The profile
# is Python's json.dumps of an object with keys, so the field goes in before its last brace.
_KEEP_LANGUAGE = """
local profile = NEW
if old then
  local was = cjson.decode(old).language
  if type(was) == 'string' and was ~= '' and cjson.decode(profile).language == nil then
    profile = string.sub(profile, 1, -2) .. ',"language":' .. cjson.encode(was) .. '}'
  end
end
"""

# One Redis only. KEYS: profile, log, seen. ARGV: prefix, id, profile json, phones json, email,
# then (contact key, contact json) pairs. Index entries the new profile no longer has are dropped.
UPSERT = (
    _DROP_OLD_INDEXES
    + _KEEP_LANGUAGE.replace("NEW", "ARGV[3]")
    + """redis.call('SET', KEYS[1], profile)
for _, p in ipairs(cjson.decode(ARGV[4])) do
  redis.call('SET', prefix .. ':phone:' .. p, id)
end
if ARGV[5] ~= '' then redis.call('SET', prefix .. ':email:' .. ARGV[5], id) end
redis.call('SADD', prefix .. ':customers', id)
local added = 0
for i = 6, #ARGV, 2 do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i + 1])
    added = added + 1
  end
end
return added
"""
)

# One Redis only. KEYS: profile. ARGV: prefix, id. Drops the index entries of this customer.
UNINDEX = (
    _DROP_OLD_INDEXES
    + """redis.call('SREM', prefix .. ':customers', id)
return old and 1 or 0
"""
)

# Cluster. KEYS: profile, log, seen. ARGV: profile json, then (contact key, contact json)
# pairs. Returns {contacts added, the profile it replaced or ''}; the caller fixes the indexes.
SAVE = (
    """
local old = redis.call('GET', KEYS[1])
"""
    + _KEEP_LANGUAGE.replace("NEW", "ARGV[1]")
    + """old = old or ''
redis.call('SET', KEYS[1], profile)
local added = 0
for i = 2, #ARGV, 2 do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i + 1])
    added = added + 1
  end
end
return {added, old}
"""
)

# Cluster. KEYS: one phone or email index entry. ARGV: id. Drops it only if it is this id's.
DROP_INDEX = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
