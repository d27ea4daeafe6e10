namespace Attribution.Core.Sidecar;

/// <summary>Payload encoding of record 10 (docs/FORMAT.md), beside <see cref="SidecarCodec"/>, which hands it here.</summary>
internal static class ProcessNameCodec
{
    public static void Encode(BinaryWriter w, ProcessNameRecord n)
    {
        SidecarCodec.WriteKey(w, n.Key);
        w.Write(n.Nanoseconds); w.Write(n.ReadNanoseconds); w.Write((byte)n.Cause);
        SidecarCodec.WriteBytes(w, n.Comm);
        SidecarCodec.WriteBytes(w, n.Cmdline);
    }

    public static ProcessNameRecord Decode(BinaryReader r) =>
        new(SidecarCodec.ReadKey(r), r.ReadInt64(), r.ReadInt64(), (NameReadCause)r.ReadByte(), SidecarCodec.ReadBytes(r), SidecarCodec.ReadBytes(r));
}
