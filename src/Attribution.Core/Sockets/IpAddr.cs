using System.Buffers.Binary;
using System.Net;

namespace Attribution.Core.Sockets;

/// <summary>
/// An IP address as 16 bytes in network order, IPv4 held in its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so
/// v4 and v6 addresses share one allocation-free key type.
/// </summary>
public readonly record struct IpAddr(UInt128 Value)
{
    private static readonly UInt128 V4MappedPrefix = (UInt128)0xFFFF << 32;
    private static readonly UInt128 V4MappedMask = ~(UInt128)0xFFFF_FFFF;

    // UInt128's own hash (HashCode.Combine of its halves) is slow for the packet loop, where every flow, socket and
    // traffic-totals key hashes one or two addresses. A multiply-fold is enough; the seed, random per process, keeps
    // whoever sent the traffic from choosing addresses that collide in advance.
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64() | 1;

    public override int GetHashCode()
    {
        ulong h = ((ulong)Value ^ Seed) * 0x9E3779B97F4A7C15UL;
        h = (h ^ (ulong)(Value >> 64)) * 0xC2B2AE3D27D4EB4FUL;
        return (int)(h ^ (h >> 32));
    }

    public static IpAddr FromV4(uint networkOrderValue) => new(V4MappedPrefix | networkOrderValue);

    public static IpAddr FromV4(ReadOnlySpan<byte> fourBytes) => FromV4(BinaryPrimitives.ReadUInt32BigEndian(fourBytes));

    public static IpAddr FromV6(ReadOnlySpan<byte> sixteenBytes) => new(BinaryPrimitives.ReadUInt128BigEndian(sixteenBytes));

    public bool IsV4Mapped => (Value & V4MappedMask) == V4MappedPrefix;

    public bool IsUnspecified => Value == UInt128.Zero || Value == V4MappedPrefix;

    /// <summary>127.0.0.0/8 or ::1: an address every network namespace has its own of.</summary>
    public bool IsLoopback => IsV4Mapped ? (uint)(Value >> 24) % 256 == 127 : Value == UInt128.One;

    public void WriteTo(Span<byte> sixteenBytes) => BinaryPrimitives.WriteUInt128BigEndian(sixteenBytes, Value);

    /// <summary>IPv4 dotted quad for v4-mapped values, RFC 5952 text otherwise (IPAddress already formats that way).</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteTo(bytes);
        return IsV4Mapped ? new IPAddress(bytes[12..]).ToString() : new IPAddress(bytes).ToString();
    }

    /// <summary>Text form for an address of a known socket family: a tcp6 socket on ::ffff:1.2.3.4 keeps its v6 spelling.</summary>
    public string ToString(AddressFamilyKind family)
    {
        if (family == AddressFamilyKind.V4) return ToString();
        Span<byte> bytes = stackalloc byte[16];
        WriteTo(bytes);
        return new IPAddress(bytes).ToString();
    }

    public static IpAddr Parse(string text)
    {
        var ip = IPAddress.Parse(text);
        Span<byte> bytes = stackalloc byte[16];
        if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            ip.TryWriteBytes(bytes, out _);
            return FromV4(bytes[..4]);
        }
        ip.TryWriteBytes(bytes, out _);
        return FromV6(bytes);
    }
}

public enum AddressFamilyKind : byte
{
    V4 = 4,
    V6 = 6,
}
