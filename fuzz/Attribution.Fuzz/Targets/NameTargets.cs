using Attribution.Analyzer.Payloads;

namespace Attribution.Fuzz.Targets;

/// <summary>
/// The decoders of names in payloads (issue 23): the first byte picks one (0 a DNS response and the query test,
/// 1 a TLS ClientHello, 2 an HTTP request head, 3 a DNS name at the offset the second byte gives); the rest is the
/// payload as the network delivered it. None documents an exception: every bad input is a NameScan or a false.
/// </summary>
public static class NameTargets
{
    [ThreadStatic] private static List<DnsAnswer>? _answers;

    public static void Names(byte[] input)
    {
        if (input.Length == 0) return;
        var payload = input.AsSpan(1);
        switch (input[0] % 4)
        {
            case 0:
                var answers = _answers ??= [];
                answers.Clear();
                DnsResponse.Read(payload, answers);
                DnsResponse.IsQuery(payload);
                break;
            case 1:
                TlsClientHello.Scan(payload, out _);
                break;
            case 2:
                HttpRequestHost.Scan(payload, out _);
                break;
            default:
                if (payload.IsEmpty) return;
                Span<byte> wire = stackalloc byte[DnsName.MaxWire];
                if (DnsName.TryRead(payload[1..], payload[0], wire, out int length, out _)) NameText.OfWire(wire[..length]);
                break;
        }
    }
}
