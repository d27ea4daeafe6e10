using Attribution.Core.Sidecar;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Names;

/// <summary>
/// The name last written for each process identity (comm and command line, in its record 2 or a record 10), shared by
/// the snapshot thread and the kernel event thread: a name read again is compared with it, and written as a record 10
/// only when it differs, so a process that keeps its name costs a comparison and no allocation.
/// </summary>
internal sealed class ProcessNames(SidecarWriter writer)
{
    private const int MaxRemembered = 65536;

    /// <summary>
    /// A name on record: as written (record 10's fields; <see cref="Cause"/> 0 for an identity's), and
    /// <see cref="SeenNs"/>, the latest read that found it, before which no change can be placed.
    /// </summary>
    private sealed class Known(byte[] comm, byte[] cmdline, long ns, long readNs, NameReadCause cause)
    {
        public byte[] Comm = comm, Cmdline = cmdline;
        public long Ns = ns, ReadNs = readNs, SeenNs = readNs;
        public NameReadCause Cause = cause;
    }

    private readonly Dictionary<ProcessKey, Known> _known = CacheCensus.Tracked("ProcessNames.known", new Dictionary<ProcessKey, Known>());

    public long RecordsWritten { get; private set; }

    /// <summary>
    /// An identity (record 2) went into the current file: its names are the last written, unless a later name is known
    /// (a ring buffer's next file repeats an identity as first read): that one is written again after it.
    /// </summary>
    public void Written(ProcessRecord identity)
    {
        var comm = identity.CommRaw ?? System.Text.Encoding.UTF8.GetBytes(identity.Comm);
        lock (_known)
        {
            if (_known.TryGetValue(identity.Key, out var known) && known.SeenNs > identity.FirstSeenNanoseconds)
            {
                if (!Same(known, comm, identity.Cmdline)) Write(identity.Key, known);
                return;
            }
            Remember(identity.Key, new Known(comm, identity.Cmdline, identity.FirstSeenNanoseconds, identity.FirstSeenNanoseconds, 0));
        }
    }

    /// <summary>A rename the kernel events report (and so record themselves): reads compare with its comm from now on.</summary>
    public void Renamed(ProcessKey key, ReadOnlySpan<byte> comm)
    {
        lock (_known)
            if (_known.TryGetValue(key, out var known) && !known.Comm.AsSpan().SequenceEqual(comm)) known.Comm = comm.ToArray();
    }

    /// <summary>
    /// A name read at <paramref name="readNs"/>: written as a record 10 if it is not the one on record, placed at
    /// <paramref name="placedNs"/> but never before the last read that found the old one. A read older than one already
    /// compared (the other thread's) says nothing new. A process with nothing on record is only remembered.
    /// </summary>
    public void Compare(ProcessKey key, ReadOnlySpan<byte> comm, ReadOnlySpan<byte> cmdline, long placedNs, long readNs, NameReadCause cause)
    {
        lock (_known)
        {
            if (!_known.TryGetValue(key, out var known))
            {
                Remember(key, new Known(comm.ToArray(), cmdline.ToArray(), readNs, readNs, cause));
                return;
            }
            if (readNs < known.SeenNs) return;
            if (Same(known, comm, cmdline))
            {
                known.SeenNs = readNs;
                return;
            }
            (known.Comm, known.Cmdline) = (comm.ToArray(), cmdline.ToArray());
            (known.Ns, known.ReadNs, known.SeenNs, known.Cause) = (Math.Min(Math.Max(placedNs, known.SeenNs + 1), readNs), readNs, readNs, cause);
            Write(key, known);
        }
    }

    /// <summary>The process has exited: nothing more will be read of it.</summary>
    public void Forget(ProcessKey key)
    {
        lock (_known) _known.Remove(key);
    }

    private void Remember(ProcessKey key, Known known)
    {
        // Bounded: a process forgotten has its next read remembered, not compared.
        if (_known.Count >= MaxRemembered && !_known.ContainsKey(key)) _known.Clear();
        _known[key] = known;
    }

    private static bool Same(Known known, ReadOnlySpan<byte> comm, ReadOnlySpan<byte> cmdline) =>
        known.Comm.AsSpan().SequenceEqual(comm) && known.Cmdline.AsSpan().SequenceEqual(cmdline);

    private void Write(ProcessKey key, Known known)
    {
        writer.Write(new ProcessNameRecord(key, known.Ns, known.ReadNs, known.Cause == 0 ? NameReadCause.Snapshot : known.Cause, known.Comm, known.Cmdline));
        RecordsWritten++;
    }
}
