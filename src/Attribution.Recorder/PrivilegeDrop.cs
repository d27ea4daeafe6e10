using System.Runtime.InteropServices;
using Attribution.Recorder.Native;

namespace Attribution.Recorder;

/// <summary>Who the recorder runs as once started, and with which capabilities, for the status line and the tests.</summary>
public sealed record DroppedPrivileges(uint Uid, string Who, CapabilitySet Kept, string? Note)
{
    public override string ToString() => $"privileges: recording goes on as {Who} with only {Kept}" + (Note is null ? "" : $"; {Note}");
}

/// <summary>
/// Gives up what the recorder needs only to start, once its capture handles, perf events and netlink sockets are open
/// (docs/RECORDING.md, Privileges): the uid, as `tcpdump -Z` does (from root to <see cref="RunAsUser"/>), and every
/// capability but those the snapshots, kernel events and conntrack still use. Capabilities belong to threads: capset
/// changes only the calling one. So the drop runs on the thread that then starts every thread of the recording, which
/// inherit its set; the runtime's threads started before are made to give up all of theirs (<see cref="ThreadCapabilities"/>).
/// </summary>
internal static class PrivilegeDrop
{
    /// <summary>
    /// The drop a recording asked for (<see cref="RecordOptions.RunAs"/>; null, none), once <paramref name="evidence"/> has
    /// opened everything and before any of its threads starts.
    /// </summary>
    public static DroppedPrivileges? For(RecordOptions options, RunAsPlan? plan, EvidenceRecorder evidence, string? ringDirectory)
    {
        if (options.RunAs is null || plan is null) return null;
        var dropped = Apply(plan.User, evidence.NeededAfterStart, ringDirectory);
        return plan.Note is null ? dropped : dropped with { Note = dropped.Note is null ? plan.Note : $"{plan.Note}; {dropped.Note}" };
    }

    /// <summary>
    /// Becomes <paramref name="user"/> (null: stays who it is) with <paramref name="needed"/> (those the process has), no
    /// ambient or inheritable set, no_new_privs (no exec can give anything back) and not dumpable (no core file holds
    /// captured packets; no process of its own uid may read its memory). A ring buffer creates files later in
    /// <paramref name="ringDirectory"/>: if <paramref name="user"/> may not create files there, the recorder keeps uid 0
    /// (its files stay root's); if even that needs CAP_DAC_OVERRIDE (another user's directory), it keeps that too. Any
    /// failure throws: the recording does not go on half dropped.
    /// </summary>
    public static DroppedPrivileges Apply(RunAsUser? user, CapabilitySet needed, string? ringDirectory)
    {
        var (_, permitted) = CapabilitySet.OfThisThread();
        var keep = needed.Intersect(permitted);
        var notes = new List<string>();
        if (user is not null && ringDirectory is not null && !CanCreateAs(user, ringDirectory))
        {
            notes.Add($"the ring buffer's directory {ringDirectory} does not let {user} create files, so the recorder keeps uid 0 to " +
                      "create them (make it writable by that user, or name one who may with -Z, to record without root)");
            user = null;
        }
        // Permitted, not effective, until the directory is tried as the recorder will be.
        var spare = ringDirectory is not null && permitted.Has(CapabilitySet.DacOverride) ? CapabilitySet.Of(CapabilitySet.DacOverride) : default;
        if (user is not null) SwitchUser(user);
        Set(effective: keep, permitted: new CapabilitySet(keep.Bits | spare.Bits));

        uint uid = LibC.getuid();
        string who = user?.ToString() ?? (uid == 0 ? "root (uid 0)" : $"uid {uid}");
        if (!spare.IsEmpty && !CanCreateIn(ringDirectory!))
        {
            keep = keep.With(CapabilitySet.DacOverride);
            notes.Add($"{ringDirectory} does not let {who} create files without CAP_DAC_OVERRIDE, which is kept to create the ring's files");
        }
        Set(keep, keep);
        // No ambient set to hand on, no exec that could give capabilities back, no core file or same-uid peek at memory.
        Prctl(LibC.PrCapAmbient, LibC.PrCapAmbientClearAll, "clear the ambient capabilities", mayBeMissing: true);
        Prctl(LibC.PrSetKeepcaps, 0, "PR_SET_KEEPCAPS");
        Prctl(LibC.PrSetNoNewPrivs, 1, "PR_SET_NO_NEW_PRIVS");
        Prctl(LibC.PrSetDumpable, 0, "PR_SET_DUMPABLE");
        Verify(user, keep);
        ThreadCapabilities.DropOnOtherThreads(keep);
        if (ThreadCapabilities.HoldingMoreThan(keep) is { } others) notes.Add(others);
        return new DroppedPrivileges(uid, who, keep, notes.Count == 0 ? null : string.Join("; ", notes));
    }

    private static unsafe void SwitchUser(RunAsUser user)
    {
        Prctl(LibC.PrSetKeepcaps, 1, "PR_SET_KEEPCAPS"); // this thread keeps its permitted set through setresuid
        SetGroups(user.Groups, $"setgroups for {user.Name}");
        Check(LibC.setresgid(user.Gid, user.Gid, user.Gid), $"setresgid {user.Gid}");
        Check(LibC.setresuid(user.Uid, user.Uid, user.Uid), $"setresuid {user.Uid}");
    }

    /// <summary>
    /// Whether <paramref name="user"/>, with the capabilities kept, may create files in <paramref name="directory"/>, asked
    /// of the kernel before the uid changes for good: the process takes the user's groups, and this thread alone its uid
    /// for file access (setfsuid), which clears the file capabilities from its effective set; CAP_DAC_READ_SEARCH, which is
    /// kept, is raised again. Everything is put back afterwards, the groups too when the answer is no.
    /// </summary>
    private static unsafe bool CanCreateAs(RunAsUser user, string directory)
    {
        var saved = new uint[Math.Max(0, LibC.getgroups(0, null))];
        fixed (uint* g = saved) Check(LibC.getgroups(saved.Length, g) < 0 ? -1 : 0, "getgroups");
        SetGroups(user.Groups, $"setgroups for {user.Name}");
        Check(LibC.setresgid(user.Gid, user.Gid, user.Gid), $"setresgid {user.Gid}");
        // No collection while this thread's fsuid is the user's: a thread made meanwhile by this one keeps its fsuid for
        // good, and the collector makes its background thread on first use, from the thread whose allocation set it off
        // (seen once in the suite: ".NET BGC" with fsuid 65534 in a recorder that kept uid 0).
        bool noCollection = GC.TryStartNoGCRegion(16 * 1024 * 1024);
        LibC.setfsuid(user.Uid);
        var (effective, permitted) = CapabilitySet.OfThisThread();
        bool can;
        try
        {
            var readSearch = CapabilitySet.Of(CapabilitySet.DacReadSearch).Intersect(permitted);
            Set(new CapabilitySet(effective.Bits | readSearch.Bits), permitted);
            can = CanCreateIn(directory);
        }
        finally
        {
            LibC.setfsuid(0); // the file capabilities come back from the permitted set
            if (noCollection && System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        if (can) return true;
        Check(LibC.setresgid(0, 0, 0), "setresgid 0");
        SetGroups(saved, "setgroups back");
        return false;
    }

    private static unsafe void SetGroups(uint[] groups, string what)
    {
        fixed (uint* g = groups) Check(LibC.setgroups((nuint)groups.Length, g), what);
    }

    private static void Set(CapabilitySet effective, CapabilitySet permitted) =>
        Check(CapabilitySet.SetThisThread(effective, permitted) ? 0 : -1, $"capset to {permitted}");

    /// <summary>Whether this thread, as it now is, may create files in <paramref name="directory"/>: the kernel's answer (faccessat2).</summary>
    private static unsafe bool CanCreateIn(string directory)
    {
        var path = LibC.NulTerminated(directory, stackalloc byte[LibC.PathBufferLength(directory)]);
        fixed (byte* p = path) return LibC.faccessat(LibC.AtFdcwd, p, LibC.WOk | LibC.XOk, LibC.AtEaccess) == 0;
    }

    /// <summary>Reads back what the kernel holds: a drop that did not happen must not pass for one.</summary>
    private static unsafe void Verify(RunAsUser? user, CapabilitySet keep)
    {
        var (effective, permitted) = CapabilitySet.OfThisThread();
        uint ruid, euid, suid;
        Check(LibC.getresuid(&ruid, &euid, &suid), "getresuid");
        bool uidsRight = user is null || (ruid == user.Uid && euid == user.Uid && suid == user.Uid);
        if (effective != keep || permitted != keep || !uidsRight)
            throw new RecordError(RecordFailure.Privileges,
                $"could not drop privileges: uids {ruid}/{euid}/{suid}, capabilities {permitted} where {keep} was asked; nothing is recorded");
    }

    private static void Prctl(int option, nuint value, string what, bool mayBeMissing = false)
    {
        if (LibC.prctl(option, value, 0, 0, 0) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        if (mayBeMissing && errno == 22) return; // EINVAL: a kernel before 4.3 has no ambient set to clear
        throw Failure(what, errno);
    }

    private static void Check(int result, string what)
    {
        if (result != 0) throw Failure(what, Marshal.GetLastPInvokeError());
    }

    private static RecordError Failure(string what, int errno) =>
        new(RecordFailure.Privileges, $"could not drop privileges ({what}: {Marshal.GetPInvokeErrorMessage(errno)}); nothing is recorded");
}
