namespace Attribution.Analyzer.Payloads;

/// <summary>
/// The Host header (RFC 9112 §3.2) of the HTTP/1.x request at the start of a client's stream, its port left off.
/// Hand-parsed: only the request line and the header names are looked at, in place. A request through a proxy
/// (absolute-form or CONNECT, RFC 9112 §3.2.2–3) names the origin, not the proxy at the far end of the connection:
/// it is <see cref="NameScan.Absent"/>; the proxy's own name may still come from DNS.
/// </summary>
public static class HttpRequestHost
{
    /// <summary>Request line and headers looked at: a real request's Host is in its first few hundred bytes.</summary>
    public const int MaxHead = 8192;

    private static readonly byte[][] Methods =
        ["GET "u8.ToArray(), "POST "u8.ToArray(), "HEAD "u8.ToArray(), "PUT "u8.ToArray(), "DELETE "u8.ToArray(),
         "OPTIONS "u8.ToArray(), "PATCH "u8.ToArray(), "CONNECT "u8.ToArray(), "TRACE "u8.ToArray()];

    public static NameScan Scan(ReadOnlySpan<byte> stream, out string? name)
    {
        name = null;
        int method = Method(stream);
        if (method < 0) return stream.Length < 8 && PrefixOfMethod(stream) ? NameScan.NeedMore : NameScan.NotThis;
        var head = stream[..Math.Min(stream.Length, MaxHead)];
        int lineEnd = head.IndexOf((byte)'\n');
        if (lineEnd < 0) return stream.Length >= MaxHead ? NameScan.Malformed : NameScan.NeedMore;
        var line = TrimCr(head[..lineEnd]);
        if (!line.EndsWith(" HTTP/1.1"u8) && !line.EndsWith(" HTTP/1.0"u8)) return NameScan.NotThis;
        var target = line[Methods[method].Length..];
        if (target.IsEmpty || (target[0] != (byte)'/' && target[0] != (byte)'*')) return NameScan.Absent; // through a proxy

        for (int at = lineEnd + 1; ;)
        {
            int end = head[at..].IndexOf((byte)'\n');
            if (end < 0) return stream.Length >= MaxHead ? NameScan.Malformed : NameScan.NeedMore;
            var header = TrimCr(head.Slice(at, end));
            if (header.IsEmpty) return NameScan.Absent; // the end of the headers (HTTP/1.0 may have no Host)
            if (IsHost(header)) return Value(header[5..], out name);
            at += end + 1;
        }
    }

    private static bool IsHost(ReadOnlySpan<byte> header) =>
        header.Length > 5 && header[4] == (byte)':' && System.Text.Ascii.EqualsIgnoreCase(header[..4], "host"u8);

    private static NameScan Value(ReadOnlySpan<byte> value, out string? name)
    {
        name = null;
        value = value.Trim(" \t"u8);
        // The port goes: "example.com:8080" names example.com; "[::1]:8080" keeps its brackets, a literal address.
        int close = value.IndexOf((byte)']');
        int colon = value.LastIndexOf((byte)':');
        if (value.Length > 0 && value[0] == (byte)'[') { if (close > 0) value = value[..(close + 1)]; }
        else if (colon >= 0) value = value[..colon];
        if (value.IsEmpty || value.Length > NameText.MaxBytes) return NameScan.Malformed;
        name = NameText.Of(value);
        return NameScan.Found;
    }

    private static int Method(ReadOnlySpan<byte> stream)
    {
        for (int i = 0; i < Methods.Length; i++)
            if (stream.StartsWith(Methods[i])) return i;
        return -1;
    }

    private static bool PrefixOfMethod(ReadOnlySpan<byte> stream)
    {
        foreach (var m in Methods)
            if (m.AsSpan().StartsWith(stream)) return true;
        return false;
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
}
