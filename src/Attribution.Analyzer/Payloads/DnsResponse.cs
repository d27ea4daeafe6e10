using System.Buffers.Binary;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Payloads;

/// <summary>
/// The answers of a DNS response (RFC 1035 §4.1) that tie its question to addresses: the CNAME chain from the question
/// and the A and AAAA records at its end, with their TTLs. Hand-parsed: the format is small and fixed, a library would
/// build objects for every record of every message, and every length here must be checked against the bytes a stranger
/// sent. Bounds-checked throughout: a bad message is <see cref="NameScan.Malformed"/>, never an exception. Allocates only
/// the text of the answers it returns.
/// </summary>
public static class DnsResponse
{
    private const int Header = 12;
    /// <summary>Records looked at per message: a real answer has a few; a crafted one is cut here, not walked for long.</summary>
    public const int MaxRecords = 128;
    /// <summary>CNAMEs followed from the question: resolvers stop near here too (BIND: 16).</summary>
    private const int MaxChain = 8;

    /// <summary>
    /// A standard query, as a first datagram of a flow on any port: one question, no answers. What makes a flow on an
    /// unusual port one whose answers are read.
    /// </summary>
    public static bool IsQuery(ReadOnlySpan<byte> message)
    {
        if (message.Length < Header + 5) return false;
        if ((message[2] & 0xF8) != 0 || Count(message, 4) != 1 || Count(message, 6) != 0 || Count(message, 8) != 0 || Count(message, 10) > 1) return false;
        Span<byte> wire = stackalloc byte[DnsName.MaxWire];
        return DnsName.TryRead(message, Header, wire, out _, out int next) && next + 4 <= message.Length;
    }

    /// <summary>Reads a response's answers into <paramref name="answers"/>: Found (some or none), NotThis (a query), or Malformed.</summary>
    public static NameScan Read(ReadOnlySpan<byte> message, List<DnsAnswer> answers)
    {
        if (message.Length < Header) return NameScan.Malformed;
        if ((message[2] & 0x80) == 0) return NameScan.NotThis; // a query
        if ((message[2] & 0x78) != 0 || Count(message, 4) != 1) return NameScan.Absent; // not a standard query's answer
        Span<byte> question = stackalloc byte[DnsName.MaxWire];
        if (!DnsName.TryRead(message, Header, question, out int questionLength, out int at) || at + 4 > message.Length) return NameScan.Malformed;
        at += 4;

        // Where each answer record lies, checked once; the chain is then followed over these.
        int records = Math.Min((int)Count(message, 6), MaxRecords);
        Span<int> starts = stackalloc int[MaxRecords];
        Span<byte> name = stackalloc byte[DnsName.MaxWire];
        for (int i = 0; i < records; i++)
        {
            starts[i] = at;
            if (!DnsName.TryRead(message, at, name, out _, out at) || at + 10 > message.Length) return NameScan.Malformed;
            int length = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 8)..]);
            at += 10 + length;
            if (at > message.Length) return NameScan.Malformed;
        }
        return Follow(message, question[..questionLength], starts[..records], answers);
    }

    /// <summary>From the question through CNAMEs (in any order in the message) to addresses; a record off the chain is not this question's.</summary>
    private static NameScan Follow(ReadOnlySpan<byte> message, ReadOnlySpan<byte> question, ReadOnlySpan<int> starts, List<DnsAnswer> answers)
    {
        Span<byte> chain = stackalloc byte[DnsName.MaxWire * (MaxChain + 1)];
        Span<int> chainLengths = stackalloc int[MaxChain + 1];
        question.CopyTo(chain);
        chainLengths[0] = question.Length;
        int names = 1;
        Span<bool> used = stackalloc bool[starts.Length];
        Span<byte> owner = stackalloc byte[DnsName.MaxWire], target = stackalloc byte[DnsName.MaxWire];
        string query = NameText.OfWire(question);
        for (bool progress = true; progress;)
        {
            progress = false;
            for (int i = 0; i < starts.Length; i++)
            {
                if (used[i]) continue;
                DnsName.TryRead(message, starts[i], owner, out int ownerLength, out int at); // checked in Read
                if (!OnChain(chain, chainLengths[..names], owner[..ownerLength])) continue;
                ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[at..]);
                ushort @class = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(message[(at + 2)..]) & 0x7FFF); // mDNS's cache-flush bit
                uint ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(at + 4)..]);
                if (ttl > int.MaxValue) ttl = 0; // RFC 2181 §8: a TTL with the top bit set is zero
                var data = message.Slice(at + 10, BinaryPrimitives.ReadUInt16BigEndian(message[(at + 8)..]));
                used[i] = true;
                if (@class != 1) continue;
                string text = NameText.OfWire(owner[..ownerLength]);
                if (type == (ushort)DnsRecordType.A && data.Length == 4)
                    answers.Add(new(query, text, DnsRecordType.A, IpAddr.FromV4(data), null, ttl));
                else if (type == (ushort)DnsRecordType.Aaaa && data.Length == 16)
                    answers.Add(new(query, text, DnsRecordType.Aaaa, IpAddr.FromV6(data), null, ttl));
                else if (type == (ushort)DnsRecordType.Cname)
                {
                    // The target may be compressed into the rest of the message; it must end inside its record.
                    if (!DnsName.TryRead(message, at + 10, target, out int targetLength, out int end) || end > at + 10 + data.Length) return NameScan.Malformed;
                    answers.Add(new(query, text, DnsRecordType.Cname, default, NameText.OfWire(target[..targetLength]), ttl));
                    if (names <= MaxChain)
                    {
                        target[..targetLength].CopyTo(chain[(names * DnsName.MaxWire)..]);
                        chainLengths[names++] = targetLength;
                        progress = true;
                    }
                }
            }
        }
        return NameScan.Found;
    }

    private static bool OnChain(ReadOnlySpan<byte> chain, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < lengths.Length; i++)
            if (DnsName.Same(chain.Slice(i * DnsName.MaxWire, lengths[i]), name)) return true;
        return false;
    }

    private static ushort Count(ReadOnlySpan<byte> message, int at) => BinaryPrimitives.ReadUInt16BigEndian(message[at..]);
}
