namespace Attribution.Core.Sidecar;

/// <summary>Payload encoding of records 8 and 9 (docs/FORMAT.md), beside <see cref="SidecarCodec"/>, which hands them here.</summary>
internal static class ConntrackCodec
{
    public static void Encode(BinaryWriter w, SidecarRecord record)
    {
        switch (record)
        {
            case ConntrackTableRecord t:
                w.Write(t.StartNanoseconds); w.Write(t.EndNanoseconds); w.Write(t.Netns);
                w.Write((byte)t.Kind); w.Write(t.Unchanged); w.Write(t.Hash);
                w.Write7BitEncodedInt(t.Content.Length); w.Write(t.Content);
                break;
            case ConntrackEventBatchRecord b:
                w.Write(b.Netns); w.Write7BitEncodedInt64(b.Overruns); w.Write7BitEncodedInt(b.Events.Count);
                foreach (var e in b.Events)
                {
                    w.Write(e.ReceivedNanoseconds);
                    w.Write7BitEncodedInt(e.Message.Length); w.Write(e.Message);
                }
                break;
        }
    }

    public static SidecarRecord? Decode(SidecarRecordType type, BinaryReader r) => type switch
    {
        SidecarRecordType.ConntrackTable => new ConntrackTableRecord(r.ReadInt64(), r.ReadInt64(), r.ReadUInt64(),
            (ConntrackTableKind)r.ReadByte(), r.ReadBoolean(), r.ReadUInt64(), SidecarCodec.ReadCountedBytes(r)),
        SidecarRecordType.ConntrackEvents => DecodeEvents(r),
        _ => null,
    };

    private static ConntrackEventBatchRecord DecodeEvents(BinaryReader r)
    {
        ulong netns = r.ReadUInt64();
        long overruns = r.Read7BitEncodedInt64();
        int count = SidecarCodec.CheckedCount(r.Read7BitEncodedInt());
        var events = new List<ConntrackEventMessage>(Math.Min(count, 4096));
        for (int i = 0; i < count; i++)
            events.Add(new ConntrackEventMessage(r.ReadInt64(), SidecarCodec.ReadCountedBytes(r)));
        return new ConntrackEventBatchRecord(netns, overruns, events);
    }
}
