namespace Attribution.Core.Sidecar;

/// <summary>Payload encoding of record 11 (docs/FORMAT.md), beside <see cref="SidecarCodec"/>, which hands it here.</summary>
internal static class ContainerCodec
{
    public static void Encode(BinaryWriter w, ContainerRecord c)
    {
        w.Write(c.Id); w.Write(c.Runtime); w.Write(c.ReadNanoseconds);
        w.Write7BitEncodedInt(c.Sources.Count);
        foreach (var s in c.Sources)
        {
            w.Write((byte)s.Part); w.Write(s.Path); w.Write(s.Truncated);
            w.Write7BitEncodedInt(s.Content.Length); w.Write(s.Content);
        }
    }

    public static ContainerRecord Decode(BinaryReader r)
    {
        string id = r.ReadString(), runtime = r.ReadString();
        long read = r.ReadInt64();
        int count = SidecarCodec.CheckedCount(r.Read7BitEncodedInt());
        var sources = new List<ContainerSource>(Math.Min(count, 64));
        for (int i = 0; i < count; i++)
            sources.Add(new ContainerSource((ContainerSourcePart)r.ReadByte(), r.ReadString(), r.ReadBoolean(), SidecarCodec.ReadBytes(r)));
        return new ContainerRecord(id, runtime, read, sources);
    }
}
