using System.Buffers.Binary;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Reads a directory's entries with getdents64 (struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type,
/// char d_name[], NUL-terminated), for the /proc walks of every snapshot: each process's fds, and the pids themselves.
/// </summary>
internal static unsafe class Dirent64
{
    private const int NameOffset = 19, RecordLengthOffset = 16;

    /// <summary>Calls <paramref name="numeric"/> with each entry whose name is a number (a pid, an fd), and that name; false if the directory cannot be read.</summary>
    public static bool ForEachNumber<TState>(int directory, byte[] buffer, ref TState state, NumericEntry<TState> numeric)
    {
        fixed (byte* entries = buffer)
        {
            while (true)
            {
                nint got = LibC.getdents64(directory, entries, buffer.Length);
                if (got <= 0) return got == 0;
                for (int offset = 0; offset < got;)
                {
                    int recordLength = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(offset + RecordLengthOffset));
                    byte* name = entries + offset + NameOffset;
                    offset += recordLength;
                    if (name[0] is < (byte)'0' or > (byte)'9') continue; // ".", "..", and /proc's named entries
                    numeric(ref state, ParseNumber(name), name);
                }
            }
        }
    }

    public delegate void NumericEntry<TState>(ref TState state, int number, byte* name);

    private static int ParseNumber(byte* name)
    {
        int n = 0;
        for (; *name is >= (byte)'0' and <= (byte)'9'; name++) n = n * 10 + (*name - '0');
        return n;
    }
}
