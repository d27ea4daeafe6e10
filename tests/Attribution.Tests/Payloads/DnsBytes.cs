using System.Buffers.Binary;
using System.Net;

namespace Attribution.Tests.Payloads;

/// <summary>DNS messages laid out byte by byte as RFC 1035 §4.1 has them, for the decoder's tests.</summary>
internal sealed class DnsBytes
{
    private readonly List<byte> _bytes = [];

    /// <summary>A header: id 0x1234, QR as asked, RD, one question, <paramref name="answers"/> answers.</summary>
    public static DnsBytes Response(string question, ushort qtype, int answers, bool response = true)
    {
        var m = new DnsBytes();
        m.U16(0x1234).U8((byte)(response ? 0x81 : 0x01)).U8(response ? (byte)0x80 : (byte)0).U16(1).U16((ushort)answers).U16(0).U16(0);
        m.Name(question).U16(qtype).U16(1);
        return m;
    }

    public int Length => _bytes.Count;

    public DnsBytes U8(byte b) { _bytes.Add(b); return this; }
    public DnsBytes U16(ushort v) { _bytes.Add((byte)(v >> 8)); _bytes.Add((byte)v); return this; }
    public DnsBytes U32(uint v) { U16((ushort)(v >> 16)); return U16((ushort)v); }
    public DnsBytes Raw(params byte[] bytes) { _bytes.AddRange(bytes); return this; }

    /// <summary>A name as labels, uncompressed.</summary>
    public DnsBytes Name(string name)
    {
        foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var b = System.Text.Encoding.ASCII.GetBytes(label);
            U8((byte)b.Length).Raw(b);
        }
        return U8(0);
    }

    public DnsBytes Pointer(int offset) => U16((ushort)(0xC000 | offset));

    /// <summary>The rest of a record after its owner name: type, class IN, TTL, and its data.</summary>
    public DnsBytes Record(ushort type, uint ttl, byte[] data) => U16(type).U16(1).U32(ttl).U16((ushort)data.Length).Raw(data);

    public DnsBytes A(uint ttl, string address) => Record(1, ttl, IPAddress.Parse(address).GetAddressBytes());
    public DnsBytes Aaaa(uint ttl, string address) => Record(28, ttl, IPAddress.Parse(address).GetAddressBytes());

    /// <summary>A CNAME whose target is written uncompressed in its data.</summary>
    public DnsBytes Cname(uint ttl, string target)
    {
        var data = new DnsBytes().Name(target).ToArray();
        return Record(5, ttl, data);
    }

    public byte[] ToArray() => [.. _bytes];

    public static ushort Answers(byte[] message) => BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(6));
}
