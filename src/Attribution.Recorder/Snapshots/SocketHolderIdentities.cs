using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Names;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// The identities of the processes that hold sockets: each written once per sidecar file, before the first snapshot
/// that names its process, and kept while it holds sockets, so a ring buffer's next file can have it again without
/// reading /proc a second time. A holder whose sockets changed has its name read again (<see cref="ReadNamesAgain"/>).
/// </summary>
internal sealed class SocketHolderIdentities(ProcessScanner scanner, SidecarWriter writer, ProcessIdentities written, NameReader names)
{
    private Dictionary<ProcessKey, ProcessRecord> _kept = new();
    private readonly HashSet<ProcessKey> _writtenNow = CacheCensus.Tracked("SocketHolderIdentities.writtenNow", new HashSet<ProcessKey>());

    /// <summary>The identities of the socket holders a scan found that this file does not have yet.</summary>
    public void WriteNew(ProcessScan scan, long seenNanoseconds)
    {
        _writtenNow.Clear();
        foreach (var key in scan.Sockets.Keys)
        {
            if (written.Contains(key)) continue;
            var identity = scanner.ReadIdentity(key, scan.NetnsOf[key], seenNanoseconds);
            if (identity is null) continue; // exited since the scan; its sockets still count for this snapshot
            written.Add(identity, writer.Write(identity));
            _kept[key] = identity;
            _writtenNow.Add(key);
        }
    }

    /// <summary>
    /// Reads again the name of each holder listed (those whose sockets changed: a process read for a new socket) whose
    /// identity was not just written with it; a changed comm or command line (a title) is written as a record 10.
    /// </summary>
    public void ReadNamesAgain(IReadOnlyList<ProcessSockets> holders)
    {
        foreach (var holder in holders)
        {
            if (_writtenNow.Contains(holder.Key) || !names.TryRead(holder.Key, out var comm, out var cmdline)) continue;
            long now = RealtimeClock.NowNanoseconds();
            written.Names.Compare(holder.Key, comm, cmdline, now, now, NameReadCause.Snapshot);
        }
    }

    /// <summary>After a whole scan: only the current socket holders' identities are kept (pruned once they are well outnumbered).</summary>
    public void KeepOnlyHoldersOf(ProcessScan scan)
    {
        if (_kept.Count > 2 * scan.Sockets.Count + 64)
            _kept = _kept.Where(e => scan.Sockets.ContainsKey(e.Key)).ToDictionary(e => e.Key, e => e.Value);
    }

    /// <summary>
    /// Writes the identity of <paramref name="key"/> again, into <paramref name="into"/>: the one kept, else read now
    /// (written by the kernel event thread, it was not kept here); nothing if the process has gone since (its
    /// sockets stay listed). Into the current file, a name of the process's known since follows it (ProcessNames).
    /// </summary>
    public void WriteAgain(ProcessKey key, ulong netns, long seenNanoseconds, SidecarWriter into)
    {
        var identity = _kept.GetValueOrDefault(key) ?? scanner.ReadIdentity(key, netns, seenNanoseconds);
        if (identity is null) return;
        _kept[key] = identity;
        int generation = into.Write(identity);
        if (ReferenceEquals(into, writer)) written.Add(identity, generation);
    }
}
