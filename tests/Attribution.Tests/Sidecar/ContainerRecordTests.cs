using Attribution.Core.Sidecar;

namespace Attribution.Tests.Sidecar;

/// <summary>Record 11 (docs/FORMAT.md): a container's sources survive the file byte for byte; damage is reported, not believed.</summary>
public class ContainerRecordTests
{
    private const string Id = "d96aa96fd8a81a2933ae108785cf407568d7ed025affc442e23d0621d80d97ac";

    private static readonly ContainerRecord Sample = new(Id, "podman", 1_700_000_000_123_456_789,
    [
        new ContainerSource(ContainerSourcePart.ArrayElement, "/var/lib/containers/storage/overlay-containers/containers.json", false,
            "{\"id\":\"d96a\",\"names\":[\"web\"]}"u8.ToArray()),
        new ContainerSource(ContainerSourcePart.Members, "/var/lib/docker/containers/X/config.v2.json", true, new byte[70_000]),
        new ContainerSource(ContainerSourcePart.PathName, "/var/log/pods/shop_cart-5f7b9_0b6f", false, []),
    ]);

    private static byte[] Write(params SidecarRecord[] records)
    {
        var memory = new MemoryStream();
        using (var writer = new SidecarWriter(memory))
            foreach (var r in records) writer.Write(r);
        return memory.ToArray(); // a closed MemoryStream still gives its bytes
    }

    [Fact]
    public void A_container_record_survives_a_round_trip_compressed_or_not()
    {
        var small = Sample with { Sources = Sample.Sources.Take(1).ToList() }; // under the threshold: stored as is
        using var reader = new SidecarReader(new MemoryStream(Write(Sample, small)), "t");
        var back = reader.ReadAll().Cast<ContainerRecord>().ToList();
        Assert.Empty(reader.Problems);
        foreach (var (expected, actual) in new[] { (Sample, back[0]), (small, back[1]) })
        {
            Assert.Equal((expected.Id, expected.Runtime, expected.ReadNanoseconds), (actual.Id, actual.Runtime, actual.ReadNanoseconds));
            Assert.Equal(expected.Sources.Count, actual.Sources.Count);
            for (int i = 0; i < expected.Sources.Count; i++)
            {
                var (e, a) = (expected.Sources[i], actual.Sources[i]);
                Assert.Equal((e.Part, e.Path, e.Truncated), (a.Part, a.Path, a.Truncated));
                Assert.Equal(e.Content, a.Content);
            }
        }
    }

    [Fact]
    public void A_source_count_past_its_record_is_a_damaged_record_with_its_offset()
    {
        var bytes = Write(new ContainerRecord(Id, "docker", 1, []));
        // The frame's payload: string id (1 + 64), string runtime (1 + 6), i64; then the count, 0, set to 100 with its CRC repaired.
        int payload = SidecarFraming.FileMagic.Length + SidecarFraming.FrameHeaderLength;
        bytes[payload + 65 + 7 + 8] = 100;
        var repaired = Fuzz.Targets.SidecarTarget.RepairCrcs(bytes);
        using var reader = new SidecarReader(new MemoryStream(repaired), "t");
        Assert.Empty(reader.ReadAll());
        var problem = Assert.Single(reader.Problems);
        Assert.Equal(SidecarFraming.FileMagic.Length, problem.Offset);
        Assert.Contains("undecodable Container record", problem.Message);
    }
}
