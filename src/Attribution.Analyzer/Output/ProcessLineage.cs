using Attribution.Analyzer.Evidence;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Output;

/// <summary>
/// Who started a process, as every output writes it (docs/SCHEMA.md, processes and process_ancestry): its parent's id,
/// its login (loginuid, sessionid; null where no login set them), the user names the recorded host gave its uid and
/// login uid, its systemd unit, its chain; and the ancestry as rows (process, depth, ancestor), depth 1 the parent.
/// </summary>
internal readonly record struct ProcessLineage(int? ParentId, long? LoginUid, long? SessionId, string? User, string? LoginUser, string? Unit, string? Chain)
{
    public static ProcessLineage Of(ProcessTable table, ProcessTable.ProcessEntry e)
    {
        var r = e.Record;
        return new ProcessLineage(e.ParentId == 0 ? null : e.ParentId, Login(r?.LoginUid), Login(r?.SessionId),
            table.UserName(r?.Uid), table.UserName(r?.LoginUid), r is null ? null : SystemdUnit.FromCgroup(r.Cgroup), e.Chain);
    }

    private static long? Login(uint? value) => value is { } v && v != ProcessRecord.NoLogin ? v : null;

    /// <summary>Every process with each of its ancestors, nearest first (the table process_ancestry of CSV and Parquet).</summary>
    public static IEnumerable<(int ProcessId, int Depth, int AncestorId)> Ancestry(ProcessTable table)
    {
        foreach (var e in table.All)
        {
            int depth = 0;
            for (var a = e; a.ParentId != 0 && depth < 512; a = table[a.ParentId])
                yield return (e.Id, ++depth, a.ParentId);
        }
    }
}
