using System.Buffers.Binary;
using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>
/// Parses ctnetlink messages (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_CTNETLINK), as a table dump or as
/// multicast events deliver them: nlmsghdr, nfgenmsg, then netlink attributes, some nested
/// (linux/netfilter/nfnetlink_conntrack.h). The recorder keeps the bytes as the kernel sent them; this is
/// the one place that reads them. Attributes this parser does not know are skipped, so a newer kernel's
/// additions do no harm.
/// </summary>
public static class CtNetlinkParser
{
    public const int NfGenMsgLength = 4;
    public const ushort SubsystemCtNetlink = 1;
    // Message types within the subsystem: a dump answers with NEW; a DESTROY event is a DELETE message.
    public const ushort MsgNew = 0, MsgGet = 1, MsgDelete = 2;
    // A NEW event for a connection just confirmed carries NLM_F_CREATE (and EXCL); an update would not.
    private const ushort NlmFCreate = 0x400;

    private const ushort CtaTupleOrig = 1, CtaTupleReply = 2, CtaStatus = 3, CtaId = 12, CtaZone = 18;
    private const ushort CtaTupleIp = 1, CtaTupleProto = 2;
    private const ushort CtaIpV4Src = 1, CtaIpV4Dst = 2, CtaIpV6Src = 3, CtaIpV6Dst = 4;
    private const ushort CtaProtoNum = 1, CtaProtoSrcPort = 2, CtaProtoDstPort = 3;
    // The top two bits of nla_type are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER), not part of the type.
    private const ushort NlaTypeMask = 0x3FFF;

    /// <summary>
    /// Parses every message in <paramref name="messages"/> (one datagram, or a whole dump) into
    /// <paramref name="into"/>; dump replies are <see cref="ConntrackChange.Listed"/>. Returns how many
    /// messages were malformed or not about a connection (counted and skipped).
    /// </summary>
    public static int Parse(ReadOnlySpan<byte> messages, bool fromDump, List<ConntrackEntry> into)
    {
        int malformed = 0;
        while (messages.Length >= SockDiagParser.NetlinkHeaderLength)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(messages);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(messages[4..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(messages[6..]);
            if (length < SockDiagParser.NetlinkHeaderLength || length > messages.Length) { malformed++; break; }
            if (type == SockDiagParser.NlmsgDone || type == SockDiagParser.NlmsgError) break;
            var body = messages.Slice(SockDiagParser.NetlinkHeaderLength, (int)length - SockDiagParser.NetlinkHeaderLength);
            if (type >> 8 == SubsystemCtNetlink && body.Length >= NfGenMsgLength)
            {
                var change = fromDump ? ConntrackChange.Listed
                    : (type & 0xFF) == MsgDelete ? ConntrackChange.Destroy
                    : (flags & NlmFCreate) != 0 ? ConntrackChange.New : ConntrackChange.Listed;
                if (TryParseEntry(body[NfGenMsgLength..], change, out var entry)) into.Add(entry);
                else malformed++;
            }
            else malformed++;
            int aligned = (int)((length + 3) & ~3u);
            messages = aligned >= messages.Length ? default : messages[aligned..];
        }
        return malformed;
    }

    private static bool TryParseEntry(ReadOnlySpan<byte> attributes, ConntrackChange change, out ConntrackEntry entry)
    {
        ConntrackTuple? original = null, reply = null;
        uint status = 0, id = 0;
        ushort zone = 0;
        foreach (var (type, value) in new Attributes(attributes))
        {
            switch (type)
            {
                case CtaTupleOrig: original = ParseTuple(value); break;
                case CtaTupleReply: reply = ParseTuple(value); break;
                case CtaStatus when value.Length >= 4: status = BinaryPrimitives.ReadUInt32BigEndian(value); break;
                case CtaId when value.Length >= 4: id = BinaryPrimitives.ReadUInt32BigEndian(value); break;
                case CtaZone when value.Length >= 2: zone = BinaryPrimitives.ReadUInt16BigEndian(value); break;
            }
        }
        entry = original is { } o && reply is { } r ? new ConntrackEntry(change, o, r, status, id, zone) : default;
        return original is not null && reply is not null;
    }

    private static ConntrackTuple? ParseTuple(ReadOnlySpan<byte> nested)
    {
        IpAddr? source = null, destination = null;
        byte protocol = 0;
        ushort sourcePort = 0, destinationPort = 0;
        foreach (var (type, value) in new Attributes(nested))
        {
            if (type == CtaTupleIp)
            {
                foreach (var (ipType, ip) in new Attributes(value))
                {
                    switch (ipType)
                    {
                        case CtaIpV4Src when ip.Length >= 4: source = IpAddr.FromV4(ip); break;
                        case CtaIpV4Dst when ip.Length >= 4: destination = IpAddr.FromV4(ip); break;
                        case CtaIpV6Src when ip.Length >= 16: source = IpAddr.FromV6(ip); break;
                        case CtaIpV6Dst when ip.Length >= 16: destination = IpAddr.FromV6(ip); break;
                    }
                }
            }
            else if (type == CtaTupleProto)
            {
                // Ports are in network order; ICMP has ids and types here instead, and keeps ports 0.
                foreach (var (protoType, p) in new Attributes(value))
                {
                    switch (protoType)
                    {
                        case CtaProtoNum when p.Length >= 1: protocol = p[0]; break;
                        case CtaProtoSrcPort when p.Length >= 2: sourcePort = BinaryPrimitives.ReadUInt16BigEndian(p); break;
                        case CtaProtoDstPort when p.Length >= 2: destinationPort = BinaryPrimitives.ReadUInt16BigEndian(p); break;
                    }
                }
            }
        }
        return source is { } s && destination is { } d ? new ConntrackTuple(protocol, s, sourcePort, d, destinationPort) : null;
    }

    /// <summary>Walks netlink attributes (nlattr: u16 length, u16 type, value, padded to 4 bytes) without allocating.</summary>
    private ref struct Attributes(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public Attribute Current { get; private set; }

        public readonly Attributes GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_rest.Length < 4) return false;
            ushort length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]);
            if (length < 4 || length > _rest.Length) return false;
            Current = new Attribute((ushort)(type & NlaTypeMask), _rest[4..length]);
            int aligned = (length + 3) & ~3;
            _rest = aligned >= _rest.Length ? default : _rest[aligned..];
            return true;
        }
    }

    private readonly ref struct Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        private readonly ReadOnlySpan<byte> _value = value;

        public void Deconstruct(out ushort attributeType, out ReadOnlySpan<byte> attributeValue)
        {
            attributeType = type;
            attributeValue = _value;
        }
    }
}
