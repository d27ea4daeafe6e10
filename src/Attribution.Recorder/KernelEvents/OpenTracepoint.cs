using System.Buffers.Binary;
using Attribution.Core.KernelEvents;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// A tracepoint whose format was read: its id and the fields the recorder's filters look at, located by name
/// in the format file (never by constant offsets: layouts change between kernels).
/// </summary>
internal sealed class OpenTracepoint
{
    public TracepointSpec Spec { get; }
    public TracepointFormat Format { get; }
    public string FormatText { get; }
    public int Id => Format.Id;

    public TracepointField CommonFlags { get; }
    public TracepointField CommonPid { get; }
    public TracepointField Socket { get; }
    public TracepointField Ret { get; }
    public TracepointField Protocol { get; }
    public TracepointField Source { get; }
    public TracepointField Destination { get; }
    public TracepointField SourcePort { get; }
    public TracepointField DestinationPort { get; }
    public TracepointField OldState { get; }
    public TracepointField NewState { get; }
    /// <summary>task_rename's renamed task; null on a kernel whose format lacks it (the task is then the one reported).</summary>
    public TracepointField? RenamedTask { get; }
    public TracepointField NewComm { get; }
    /// <summary>
    /// Whether its samples end with the user registers and stack (sched_process_exec, <see cref="ExecArguments"/>): asked
    /// for where the architecture's stack register is known, and given up if the kernel refuses it (PerfEventSet).
    /// </summary>
    public bool DumpsUserStack { get; set; }
    /// <summary>sched_process_exec's file name (a __data_loc: offset and length in the record); null on a kernel whose format lacks it.</summary>
    public TracepointField? ExecFilename { get; }
    /// <summary>sock_send_length (true) or sock_recv_length: which of the socket's streams its calls move.</summary>
    public bool Sends { get; }
    /// <summary>sock_send_length/sock_recv_length's msg flags; null on a kernel whose format lacks them.</summary>
    public TracepointField? Flags { get; }

    /// <summary>inet_sock_set_state's local address as IPv6 (IPv4 v4-mapped); null on a kernel whose format lacks it.</summary>
    public TracepointField? LocalV6 { get; }

    private OpenTracepoint(TracepointSpec spec, TracepointFormat format, string text)
    {
        Spec = spec;
        Format = format;
        FormatText = text;
        CommonFlags = format.Get(Tracepoints.Common.Flags);
        CommonPid = format.Get(Tracepoints.Common.Pid);
        DumpsUserStack = spec.Role == TracepointRole.Exec && Native.Perf.StackPointerRegister != 0;
        switch (spec.Role)
        {
            case TracepointRole.StateChange:
                Socket = format.Get(Tracepoints.InetSockSetState.Socket);
                OldState = format.Get(Tracepoints.InetSockSetState.OldState);
                NewState = format.Get(Tracepoints.InetSockSetState.NewState);
                if (format.TryGet(Tracepoints.InetSockSetState.SourceV6, out var local) && local.Size == 16) LocalV6 = local;
                break;
            case TracepointRole.SocketIo:
                Socket = format.Get(Tracepoints.SockLength.Socket);
                Ret = format.Get(Tracepoints.SockLength.Ret);
                Protocol = format.Get(Tracepoints.SockLength.Protocol);
                Sends = spec.Name == Tracepoints.SockLength.SendName;
                if (format.TryGet(Tracepoints.SockLength.Flags, out var flags) && flags.Size == 4) Flags = flags;
                break;
            case TracepointRole.Exec:
                if (format.TryGet(Tracepoints.SchedProcess.Filename, out var filename) && filename.Size == 4) ExecFilename = filename;
                break;
            case TracepointRole.Rename:
                NewComm = format.Get(Tracepoints.TaskRename.NewComm);
                if (format.TryGet(Tracepoints.TaskRename.Pid, out var task) && task.Size == 4) RenamedTask = task;
                break;
            case TracepointRole.RouteLookup:
                Protocol = format.Get(Tracepoints.FibLookup.Protocol);
                Source = format.Get(Tracepoints.FibLookup.Source);
                Destination = format.Get(Tracepoints.FibLookup.Destination);
                SourcePort = format.Get(Tracepoints.FibLookup.SourcePort);
                DestinationPort = format.Get(Tracepoints.FibLookup.DestinationPort);
                break;
        }
    }

    /// <summary>Null with a reason when the format lacks a field the role needs.</summary>
    public static OpenTracepoint? TryCreate(TracepointSpec spec, TracepointFormat format, string text, out string? reason)
    {
        reason = null;
        try { return new OpenTracepoint(spec, format, text); }
        catch (InvalidDataException e) { reason = $"{spec.Name}: {e.Message}"; return null; }
    }

    /// <summary>An integer field as the kernel stored it (host byte order), widened; 0 if the sample is too short.</summary>
    public static ulong Read(ReadOnlySpan<byte> raw, TracepointField field)
    {
        if (field.Offset + field.Size > raw.Length) return 0;
        var bytes = raw.Slice(field.Offset, field.Size);
        return field.Size switch
        {
            1 => bytes[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
            4 => field.Signed ? (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            8 => BinaryPrimitives.ReadUInt64LittleEndian(bytes),
            _ => 0,
        };
    }

    /// <summary>A char[] field up to its first NUL; empty if the sample is too short.</summary>
    public static ReadOnlySpan<byte> ReadText(ReadOnlySpan<byte> raw, TracepointField field)
    {
        if (field.Offset + field.Size > raw.Length) return default;
        var text = raw.Slice(field.Offset, field.Size);
        int nul = text.IndexOf((byte)0);
        return nul < 0 ? text : text[..nul];
    }

    /// <summary>
    /// A __data_loc string (a u32: the string's offset in the record in the low 16 bits, its length with the NUL in the
    /// high 16), up to its NUL; empty if it does not fit in the sample.
    /// </summary>
    public static ReadOnlySpan<byte> ReadDataLocText(ReadOnlySpan<byte> raw, TracepointField field)
    {
        uint loc = (uint)Read(raw, field);
        int offset = (int)(loc & 0xffff), length = (int)(loc >> 16);
        if (field.Offset + field.Size > raw.Length || offset + length > raw.Length) return default;
        var text = raw.Slice(offset, length);
        int nul = text.IndexOf((byte)0);
        return nul < 0 ? text : text[..nul];
    }

    /// <summary>An address field (4 or 16 bytes) as one number, for dictionary keys.</summary>
    public static UInt128 ReadAddress(ReadOnlySpan<byte> raw, TracepointField field)
    {
        if (field.Offset + field.Size > raw.Length || field.Size > 16) return 0;
        Span<byte> wide = stackalloc byte[16];
        wide.Clear();
        raw.Slice(field.Offset, field.Size).CopyTo(wide);
        return BinaryPrimitives.ReadUInt128LittleEndian(wide);
    }
}
