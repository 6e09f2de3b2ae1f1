# json.awk: reading and writing the JSON of API Gateway v2 events and responses in busybox awk.
# Copied into each middleware script (test-support/src/middlewares.rs), inside a single-quoted
# shell string: this file must never contain a single quote.
#
# The text is bytes (busybox awk does not decode UTF-8); JSON strings are kept as their raw
# literals until a value is needed, so whatever is passed through is passed through verbatim.

# The byte table jencode needs; call once.
function jinit(    i) {
    for (i = 1; i < 256; i++) JORD[sprintf("%c", i)] = i
    JHEX = "0123456789abcdef"
}

# The position of the first non-blank byte of s at or after i.
function jws(s, i,    c) {
    for (;;) {
        c = substr(s, i, 1)
        if (c != " " && c != "\t" && c != "\n" && c != "\r") return i
        i++
    }
}

# The position just after the JSON value starting at (blanks, then) i in s; 0 when there is no
# valid value there.
function jskip(s, i,    c, rest) {
    i = jws(s, i)
    c = substr(s, i, 1)
    rest = substr(s, i)
    if (c == "\"") {
        if (!match(rest, /^"([^"\\]|\\["\\\/bfnrt]|\\u[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F])*"/))
            return 0
        return i + RLENGTH
    }
    if (c == "{" || c == "[") return jskip_container(s, i, c)
    if (match(rest, /^(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false|null)/))
        return i + RLENGTH
    return 0
}

function jskip_container(s, i, opener,    closer, c) {
    closer = (opener == "{") ? "}" : "]"
    i = jws(s, i + 1)
    if (substr(s, i, 1) == closer) return i + 1
    for (;;) {
        if (opener == "{") {
            if (substr(s, i, 1) != "\"") return 0
            i = jskip(s, i)
            if (!i) return 0
            i = jws(s, i)
            if (substr(s, i, 1) != ":") return 0
            i++
        }
        i = jskip(s, i)
        if (!i) return 0
        i = jws(s, i)
        c = substr(s, i, 1)
        if (c == closer) return i + 1
        if (c != ",") return 0
        i = jws(s, i + 1)
    }
}

# Whether s is exactly one JSON value (blanks around it allowed).
function jvalid(s,    end) {
    end = jskip(s, 1)
    return end && jws(s, end) > length(s)
}

# Split the JSON object s into its members, in order: keys[k] is the k-th key as written (raw,
# without its quotes), raws[k] its value as written. Returns the count, or -1 when s is not one
# JSON object.
function jmembers(s, keys, raws,    i, n, start, end, c) {
    n = 0
    i = jws(s, 1)
    if (substr(s, i, 1) != "{" || !jvalid(s)) return -1
    i = jws(s, i + 1)
    if (substr(s, i, 1) == "}") return 0
    for (;;) {
        end = jskip(s, i)
        n++
        keys[n] = substr(s, i + 1, end - i - 2)
        i = jws(s, jws(s, end) + 1)
        start = i
        end = jskip(s, i)
        raws[n] = substr(s, start, end - start)
        i = jws(s, end)
        c = substr(s, i, 1)
        if (c == "}") return n
        i = jws(s, i + 1)
    }
}

# The index of key in keys[1..n] (compared as written, case-insensitively with ci), or 0.
function jfind(keys, n, key, ci,    k) {
    for (k = 1; k <= n; k++)
        if (keys[k] == key || (ci && tolower(keys[k]) == tolower(key))) return k
    return 0
}

# The object {keys[1..n]: raws[1..n]} as JSON text.
function jobject(keys, raws, n,    k, out) {
    out = "{"
    for (k = 1; k <= n; k++) out = out (k > 1 ? "," : "") "\"" keys[k] "\":" raws[k]
    return out "}"
}

function jhexval(h,    v, k) {
    v = 0
    for (k = 1; k <= length(h); k++) v = v * 16 + index(JHEX, tolower(substr(h, k, 1))) - 1
    return v
}

# The UTF-8 bytes of code point cp.
function jutf8(cp) {
    if (cp < 128) return sprintf("%c", cp)
    if (cp < 2048) return sprintf("%c%c", 192 + int(cp / 64), 128 + cp % 64)
    if (cp < 65536)
        return sprintf("%c%c%c", 224 + int(cp / 4096), 128 + int(cp / 64) % 64, 128 + cp % 64)
    return sprintf("%c%c%c%c", 240 + int(cp / 262144), 128 + int(cp / 4096) % 64,
        128 + int(cp / 64) % 64, 128 + cp % 64)
}

# The bytes a JSON string literal (quotes included) stands for. A \u0000 cannot be held by an
# awk string: it is refused (JDECODE_ERROR set), like a lone surrogate.
function jdecode(raw,    s, out, k, c, cp, lo) {
    JDECODE_ERROR = ""
    s = substr(raw, 2, length(raw) - 2)
    out = ""
    for (;;) {
        k = index(s, "\\")
        if (!k) return out s
        out = out substr(s, 1, k - 1)
        c = substr(s, k + 1, 1)
        s = substr(s, k + 2)
        if (c == "n") out = out "\n"
        else if (c == "t") out = out "\t"
        else if (c == "r") out = out "\r"
        else if (c == "b") out = out "\b"
        else if (c == "f") out = out "\f"
        else if (c != "u") out = out c
        else {
            cp = jhexval(substr(s, 1, 4))
            s = substr(s, 5)
            if (cp >= 55296 && cp < 56320 && substr(s, 1, 2) == "\\u") {
                lo = jhexval(substr(s, 3, 4))
                if (lo >= 56320 && lo < 57344) {
                    cp = 65536 + (cp - 55296) * 1024 + (lo - 56320)
                    s = substr(s, 7)
                }
            }
            if (cp == 0 || (cp >= 55296 && cp < 57344)) {
                JDECODE_ERROR = sprintf("the string holds \\u%04x", cp)
                return ""
            }
            out = out jutf8(cp)
        }
    }
}

# The JSON string literal (quotes included) of the bytes s: quote, backslash and control bytes
# escaped, every other byte as is.
function jencode(s,    out, k, c, o) {
    out = "\""
    for (k = 1; k <= length(s); k++) {
        c = substr(s, k, 1)
        o = JORD[c]
        if (c == "\"" || c == "\\") out = out "\\" c
        else if (c == "\n") out = out "\\n"
        else if (c == "\t") out = out "\\t"
        else if (c == "\r") out = out "\\r"
        else if (o < 32) out = out sprintf("\\u%04x", o)
        else out = out c
    }
    return out "\""
}

# The whole standard input as one string (newlines kept).
function jslurp(    line, text, first) {
    text = ""
    first = 1
    while ((getline line) > 0) {
        text = text (first ? "" : "\n") line
        first = 0
    }
    return text
}
