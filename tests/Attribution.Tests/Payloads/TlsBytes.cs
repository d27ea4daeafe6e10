namespace Attribution.Tests.Payloads;

/// <summary>
/// ClientHellos laid out per RFC 8446 §4.1.2 (TLS 1.3; 1.0–1.2 share the layout) with the server_name extension of
/// RFC 6066 §3, wrapped in TLSPlaintext records (§5.1), for the decoder's tests.
/// </summary>
internal static class TlsBytes
{
    /// <summary>The handshake message: type 1, 24-bit length, body.</summary>
    public static byte[] Hello(string? serverName, int padding = 0, bool extensions = true, bool sniLast = false)
    {
        var body = new List<byte> { 3, 3 };                    // legacy_version TLS 1.2
        body.AddRange(Enumerable.Range(0, 32).Select(i => (byte)i)); // random
        body.Add(32); body.AddRange(new byte[32]);             // legacy_session_id
        body.AddRange(new byte[] { 0, 6, 0x13, 0x01, 0x13, 0x02, 0xC0, 0x2F }); // cipher_suites
        body.AddRange(new byte[] { 1, 0 });                     // legacy_compression_methods: null
        if (extensions)
        {
            var ext = new List<byte>();
            var sni = new List<byte>();
            if (serverName is not null)
            {
                var name = System.Text.Encoding.ASCII.GetBytes(serverName);
                int listLength = 3 + name.Length;
                sni.AddRange(new byte[] { 0, 0, (byte)((listLength + 2) >> 8), (byte)(listLength + 2), (byte)(listLength >> 8), (byte)listLength, 0,
                    (byte)(name.Length >> 8), (byte)name.Length });
                sni.AddRange(name);
            }
            var versions = new byte[] { 0, 43, 0, 3, 2, 3, 4 };                   // supported_versions: TLS 1.3
            var keyShare = new List<byte> { 0, 51 };                              // key_share, padded to size a post-quantum one
            int shareLength = 2 + 4 + padding;
            keyShare.AddRange(new byte[] { (byte)(shareLength >> 8), (byte)shareLength, (byte)((shareLength - 2) >> 8), (byte)(shareLength - 2),
                0x11, 0xEC, (byte)(padding >> 8), (byte)padding });
            keyShare.AddRange(new byte[padding]);
            if (!sniLast) ext.AddRange(sni);
            ext.AddRange(versions);
            ext.AddRange(keyShare);
            if (sniLast) ext.AddRange(sni);
            body.Add((byte)(ext.Count >> 8)); body.Add((byte)ext.Count);
            body.AddRange(ext);
        }
        return [1, (byte)(body.Count >> 16), (byte)(body.Count >> 8), (byte)body.Count, .. body];
    }

    /// <summary>The handshake message in records of at most <paramref name="perRecord"/> bytes each.</summary>
    public static byte[] Records(byte[] handshake, int perRecord = 16384)
    {
        var stream = new List<byte>();
        for (int at = 0; at < handshake.Length; at += perRecord)
        {
            int n = Math.Min(perRecord, handshake.Length - at);
            stream.AddRange(new byte[] { 22, 3, 1, (byte)(n >> 8), (byte)n });
            stream.AddRange(handshake.AsSpan(at, n).ToArray());
        }
        return [.. stream];
    }
}
