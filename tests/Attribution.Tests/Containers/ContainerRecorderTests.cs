using Attribution.Core.Sidecar;
using Attribution.Recorder.Containers;
using Attribution.Tests.Support;

namespace Attribution.Tests.Containers;

/// <summary>
/// The recorder's container reader: each container a process record names is read once, off the writing thread, and its
/// record is in every sidecar file of a ring buffer whose processes ran in it, written from memory (the container may
/// be gone by then). Host processes and containers named by their cgroup alone (machines) get no record.
/// </summary>
public sealed class ContainerRecorderTests : IDisposable
{
    private const string PodmanId = ContainerFilesTests.PodmanId;
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-containers-").FullName;

    private static readonly SidecarHeader Header = new(SidecarFraming.FormatVersion, "test", "host", "6.1", "boot", 1_690_000_000, 100,
        1_700_000_000_000_000_000, 1, 4026531840, "x.pcapng", []);

    private static ProcessRecord Process(int pid, string cgroup) =>
        new(new ProcessKey(pid, 1000), 1, 0, 0, "httpd", "/bin/busybox", "httpd\0"u8.ToArray(), cgroup, 4026532000, 1);

    [Fact]
    public void Each_container_is_read_once_and_recorded_in_every_file_that_names_it()
    {
        // A copy of podman's files, removed once read: what is written into the second file can only come from memory.
        var host = Path.Combine(_dir, "host");
        Run.Checked("cp", "-r", ContainerFilesTests.PodmanRoot, host);
        string first = Path.Combine(_dir, "1.snapshots"), second = Path.Combine(_dir, "2.snapshots");
        var writer = new SidecarWriter(File.Create(first));
        var recorder = ContainerRecorder.Start(writer, host);
        try
        {
            writer.Write(Header);
            writer.Write(Process(10, "0::/user.slice/user-0.slice/session-1.scope\n"));
            writer.Write(Process(11, $"0::/libpod_parent/libpod-{PodmanId}\n"));
            writer.Write(Process(12, $"1:name=systemd:/libpod_parent/libpod-{PodmanId}\n0::/libpod_parent/libpod-{PodmanId}\n"));
            writer.Write(Process(13, "0::/machine.slice/machine-build.scope/payload\n"));
            Assert.True(SpinWait.SpinUntil(() => recorder.ContainersRead == 1, TimeSpan.FromSeconds(10)), "the container was not read");
            Directory.Delete(host, recursive: true);

            writer.SwitchTo(File.Create(second), Header with { CaptureFile = "2.pcapng" }).Dispose();
            writer.Write(Process(12, $"0::/libpod_parent/libpod-{PodmanId}\n"));
            recorder.Stop();
        }
        finally
        {
            recorder.Dispose();
            writer.Dispose();
        }

        Assert.Equal(1, recorder.ContainersRead);
        var inFirst = Assert.Single(Containers(first));
        var inSecond = Assert.Single(Containers(second));
        Assert.Equal((PodmanId, "podman"), (inFirst.Id, inFirst.Runtime));
        Assert.Equal(2, inFirst.Sources.Count);
        Assert.Equal(inFirst.Sources.Select(s => (s.Path, Convert.ToHexString(s.Content))), inSecond.Sources.Select(s => (s.Path, Convert.ToHexString(s.Content))));
    }

    [Fact]
    public void A_container_whose_runtime_keeps_nothing_here_is_recorded_as_looked_for()
    {
        var path = Path.Combine(_dir, "x.snapshots");
        const string Id = "15b6e0c6490cad17fcf69eb837794349b4df96f84ba96c6be9828fe281c055a9";
        using (var writer = new SidecarWriter(File.Create(path)))
        {
            var recorder = ContainerRecorder.Start(writer, _dir);
            writer.Write(Process(20, $"0::/system.slice/docker-{Id}.scope\n"));
            recorder.Stop(); // names what was queued before it returns
        }
        var record = Assert.Single(Containers(path));
        Assert.Equal((Id, "docker"), (record.Id, record.Runtime));
        Assert.Empty(record.Sources);
    }

    private static List<ContainerRecord> Containers(string path)
    {
        using var reader = SidecarReader.Open(path);
        var records = reader.ReadAll().OfType<ContainerRecord>().ToList();
        Assert.Empty(reader.Problems);
        return records;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
