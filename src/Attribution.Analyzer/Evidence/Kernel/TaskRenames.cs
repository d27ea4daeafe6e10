using System.Buffers.Binary;
using Attribution.Core.KernelEvents;
using Attribution.Core.Sidecar;
using Fields = Attribution.Core.KernelEvents.Tracepoints.TaskRename;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>A process renamed itself (task:task_rename of its thread-group leader): its comm before and after, to the nanosecond.</summary>
internal readonly record struct TaskRename(int Pid, long Ns, byte[] OldComm, byte[] NewComm);

/// <summary>
/// Decodes task_rename samples with the field offsets of the format the recorder stored. A sample counts when the
/// renamed task is the process the sample names (its leader, whose comm is the process's): a thread naming itself
/// does not rename its process. Kernels without the tracepoint's `pid` field report only renames in the renamed
/// task's own context, whose id is the sample's common_pid.
/// </summary>
internal sealed class TaskRenameDecoder
{
    private readonly int _id;
    private readonly TracepointField _task, _old, _new;

    private TaskRenameDecoder(int id, TracepointField task, TracepointField old, TracepointField @new) =>
        (_id, _task, _old, _new) = (id, task, old, @new);

    /// <summary>The decoder of the recording's task_rename samples; null when it recorded none (or their format is unusable).</summary>
    public static TaskRenameDecoder? For(IEnumerable<TracepointSource> sources)
    {
        foreach (var source in sources)
        {
            if (source.Name != Fields.Name) continue;
            TracepointFormat format;
            try { format = TracepointFormat.Parse(source.Format); }
            catch (Exception e) when (e is InvalidDataException or FormatException) { return null; }
            if (!format.TryGet(Fields.Pid, out var task) && !format.TryGet(Tracepoints.Common.Pid, out task)) return null;
            if (task.Size != 4 || !format.TryGet(Fields.OldComm, out var old) || !format.TryGet(Fields.NewComm, out var @new)) return null;
            return new TaskRenameDecoder(source.Id, task, old, @new);
        }
        return null;
    }

    public bool TryDecode(in KernelEvent e, out TaskRename rename)
    {
        rename = default;
        var raw = e.Raw.Span;
        if (raw.Length < 2 || BinaryPrimitives.ReadUInt16LittleEndian(raw) != _id) return false;
        // In long: a damaged offset near int.MaxValue must not wrap into a fit (the format comes from the sidecar).
        if ((long)_task.Offset + 4 > raw.Length || (long)_old.Offset + _old.Size > raw.Length || (long)_new.Offset + _new.Size > raw.Length) return false;
        if (BinaryPrimitives.ReadInt32LittleEndian(raw[_task.Offset..]) != e.Pid) return false;
        rename = new TaskRename(e.Pid, e.Nanoseconds, Text(raw, _old), Text(raw, _new));
        return true;
    }

    /// <summary>Whether the event is a task_rename sample at all (decoded or not): it is no socket event.</summary>
    public bool Is(in KernelEvent e) => e.Raw.Length >= 2 && BinaryPrimitives.ReadUInt16LittleEndian(e.Raw.Span) == _id;

    private static byte[] Text(ReadOnlySpan<byte> raw, TracepointField field)
    {
        var text = raw.Slice(field.Offset, field.Size);
        int nul = text.IndexOf((byte)0);
        return (nul < 0 ? text : text[..nul]).ToArray();
    }
}
