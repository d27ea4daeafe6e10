using System.Buffers.Binary;
using Attribution.Analyzer.Input;
using Attribution.Analyzer.Session;
using Attribution.Core.CaptureFiles;
using Attribution.Tests.Support;

namespace Attribution.Tests.Annotation;

/// <summary>
/// pcapng's own process field (epb_processid_threadid, option 8) in the annotated capture: each packet block of a
/// packet with a process names that process's pid (its source's, else its destination's) and thread 0 (not known); our
/// reader reads it back; tshark reads the file; annotating the copy again leaves one such option per block, and a copy
/// analysed without evidence keeps the ones it had.
/// </summary>
public sealed class ProcessIdOptionTests : IDisposable
{
    private readonly Scenario _s = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-pid-option-").FullName;

    [Fact]
    public void Each_packet_with_a_process_names_its_pid_once_and_the_reader_reads_it_back()
    {
        _s.Local("10.0.0.1").Process(20, "curl").Process(30, "nginx")
          .Snapshot(0.1, s => s.Tcp("10.0.0.1:1000", "192.0.2.1:443", 2, 20).Tcp("10.0.0.1:80", "192.0.2.7:5000", 3, 30));
        _s.Tcp(1.0, "10.0.0.1:1000", "192.0.2.1:443", syn: true, ack: false); // 1: curl's
        _s.Tcp(1.1, "192.0.2.1:443", "10.0.0.1:1000", payload: 100);          // 2: to curl
        _s.Tcp(1.2, "192.0.2.7:5000", "10.0.0.1:80", payload: 10);            // 3: to nginx
        _s.Tcp(1.3, "192.0.2.8:1", "192.0.2.9:2", payload: 10);               // 4: nobody's
        _s.Write();
        var annotated = Path.Combine(_dir, "annotated.pcapng");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _s.CapturePath, OutputPath = _s.DatabasePath, Annotate = true, AnnotatePath = annotated });

        uint[] expected = [20, 20, 30, 0];
        Assert.Equal(expected, ReadBack(annotated));
        List<(uint, uint)>[] once = [[(20, 0)], [(20, 0)], [(30, 0)], []];
        Assert.Equal(once, OptionsPerBlock(annotated));
        Assert.Equal(4, Run.Checked("tshark", "-r", annotated, "-T", "fields", "-e", "frame.number").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // Annotated again with the same evidence: ours replaces the copy's, one per block.
        var again = Path.Combine(_dir, "again.pcapng");
        File.Copy(_s.CapturePath + ".snapshots", annotated + ".snapshots");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = annotated, OutputPath = Path.Combine(_dir, "again.db"), Annotate = true, AnnotatePath = again });
        Assert.Equal(once, OptionsPerBlock(again));

        // Analysed with no evidence at all: no process is named, and the option the file had stays.
        var bare = Path.Combine(_dir, "bare.pcapng");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = annotated, OutputPath = Path.Combine(_dir, "bare.db"), NoSnapshots = true, Annotate = true, AnnotatePath = bare });
        Assert.Equal(expected, ReadBack(bare));
    }

    [Fact]
    public void A_big_endian_section_is_read_in_its_own_byte_order()
    {
        var option = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(option, PcapNgOption.EpbProcessIdThreadId);
        BinaryPrimitives.WriteUInt16BigEndian(option.AsSpan(2), 8);
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(4), 4321);
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(8), 8765);
        var frame = Frames.UdpFrame("10.0.0.1", 1, "10.0.0.2", 2, new byte[4]);
        var file = new PcapNgBytes(bigEndian: true).Section().Interface();
        var body = new byte[20 + ((frame.Length + 3) & ~3) + option.Length + 4];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(12), (uint)frame.Length);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(16), (uint)frame.Length);
        frame.CopyTo(body, 20);
        option.CopyTo(body, 20 + ((frame.Length + 3) & ~3));
        var path = Path.Combine(_dir, "be.pcapng");
        File.WriteAllBytes(path, file.Block(PcapNgBlockType.EnhancedPacket, body).ToArray());
        using var reader = CaptureFileReader.Open(path);
        Assert.True(reader.TryRead(out var f));
        Assert.Equal((4321u, 8765u), (f.ProcessId, f.ThreadId));
    }

    private static List<uint> ReadBack(string path)
    {
        var pids = new List<uint>();
        using var reader = CaptureFileReader.Open(path);
        while (reader.TryRead(out var f))
        {
            Assert.Equal(0u, f.ThreadId);
            pids.Add(f.ProcessId);
        }
        Assert.Null(reader.Problem);
        return pids;
    }

    /// <summary>Each enhanced packet block's epb_processid_threadid options, in file order (a little-endian file of one section).</summary>
    private static List<List<(uint Pid, uint Tid)>> OptionsPerBlock(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var blocks = new List<List<(uint, uint)>>();
        for (int at = 0; at + 12 <= bytes.Length;)
        {
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)), total = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
            if (type == PcapNgBlockType.EnhancedPacket)
            {
                var found = new List<(uint, uint)>();
                int captured = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 20));
                for (int o = at + 28 + ((captured + 3) & ~3); o + 4 <= at + total - 4;)
                {
                    ushort code = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(o)), length = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(o + 2));
                    if (code == 0) break;
                    if (code == PcapNgOption.EpbProcessIdThreadId)
                        found.Add((BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o + 4)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o + 8))));
                    o += 4 + ((length + 3) & ~3);
                }
                blocks.Add(found);
            }
            at += (int)total;
        }
        return blocks;
    }

    public void Dispose()
    {
        _s.Dispose();
        Directory.Delete(_dir, true);
    }
}
