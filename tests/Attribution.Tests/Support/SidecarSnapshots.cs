using Attribution.Core.Sidecar;

namespace Attribution.Tests.Support;

/// <summary>A sidecar's snapshots rebuilt, by id; the sidecar must read without a problem.</summary>
public static class SidecarSnapshots
{
    public static Dictionary<uint, Snapshot> ById(string sidecarPath)
    {
        using var reader = SidecarReader.Open(sidecarPath);
        var assembler = new SnapshotAssembler();
        var snapshots = new Dictionary<uint, Snapshot>();
        foreach (var record in reader.ReadAll())
            if (assembler.Add(record) is { } snapshot) snapshots[snapshot.Id] = snapshot;
        Assert.Empty(reader.Problems);
        return snapshots;
    }
}
