using Attribution.Core.CaptureFiles;

namespace Attribution.Analyzer.Input;

/// <summary>
/// Walks a pcapng block's options: code, length, value padded to 32 bits, until opt_endofopt or the block's end.
/// One whose length runs past the block ends the list with a warning: the options before it are kept, the rest
/// cannot be trusted (a damaged length may hide an if_tsresol, so the times that follow are suspect too).
/// </summary>
internal static class PcapNgOptions
{
    /// <summary>The options of the block at <paramref name="blockOffset"/>; <paramref name="start"/> is their offset inside the block.</summary>
    public static List<(ushort Code, byte[] Value)> Read(CaptureBytes bytes, InputWarnings warnings, long blockOffset, int start, ReadOnlySpan<byte> options)
    {
        var list = new List<(ushort, byte[])>();
        int at = start;
        while (options.Length >= 4)
        {
            ushort code = bytes.U16(options), length = bytes.U16(options[2..]);
            if (code == PcapNgOption.EndOfOptions) break;
            if (options.Length < 4 + length)
            {
                warnings.Add("option-overrun", blockOffset + at,
                    $"option {code} of the block at offset {blockOffset} has length {length}, past the end of its block; it and any options after it are ignored");
                break;
            }
            list.Add((code, options.Slice(4, length).ToArray()));
            int step = Math.Min(options.Length, 4 + ((length + 3) & ~3));
            options = options[step..];
            at += step;
        }
        return list;
    }

    /// <summary>
    /// A packet block's epb_processid_threadid, without allocating (it is read for every packet). Options that run past
    /// the block end the search silently: the packet itself is sound, and its options were never needed to read it.
    /// </summary>
    public static bool TryProcessIdThreadId(CaptureBytes bytes, ReadOnlySpan<byte> options, out uint processId, out uint threadId)
    {
        processId = threadId = 0;
        while (options.Length >= 4)
        {
            ushort code = bytes.U16(options), length = bytes.U16(options[2..]);
            if (code == PcapNgOption.EndOfOptions || options.Length < 4 + length) return false;
            if (code == PcapNgOption.EpbProcessIdThreadId && length == 8)
            {
                processId = bytes.U32(options[4..]);
                threadId = bytes.U32(options[8..]);
                return true;
            }
            options = options[Math.Min(options.Length, 4 + ((length + 3) & ~3))..];
        }
        return false;
    }
}
