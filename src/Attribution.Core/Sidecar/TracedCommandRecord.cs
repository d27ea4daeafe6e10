namespace Attribution.Core.Sidecar;

/// <summary>
/// Record 12: the command `record -- CMD ARGS` started and traces: its identity, read while it was held stopped
/// before its exec (so a command of a few milliseconds is never missed), the moment it was let go, and its words
/// as given (docs/FORMAT.md). The analyzer marks it and every process it forked as traced.
/// </summary>
public sealed record TracedCommandRecord(ProcessKey Key, long Nanoseconds, IReadOnlyList<string> Argv) : SidecarRecord;

/// <summary>Payload encoding of record 12, beside <see cref="SidecarCodec"/>, which hands it here.</summary>
internal static class TracedCommandCodec
{
    public static void Encode(BinaryWriter w, TracedCommandRecord t)
    {
        SidecarCodec.WriteKey(w, t.Key);
        w.Write(t.Nanoseconds);
        w.Write7BitEncodedInt(t.Argv.Count);
        foreach (var word in t.Argv) w.Write(word);
    }

    public static TracedCommandRecord Decode(BinaryReader r)
    {
        var key = SidecarCodec.ReadKey(r);
        long ns = r.ReadInt64();
        int count = r.Read7BitEncodedInt();
        // A count is bytes read, not trusted: each word takes at least one byte of what is left.
        if (count < 0 || count > r.BaseStream.Length - r.BaseStream.Position) throw new InvalidDataException($"traced command of {count} words");
        var argv = new string[count];
        for (int i = 0; i < count; i++) argv[i] = r.ReadString();
        return new TracedCommandRecord(key, ns, argv);
    }
}
