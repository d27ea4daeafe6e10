namespace Attribution.Tests.Support;

/// <summary>
/// A container image's root file system made of Debian's busybox-static, as a tarball for `podman import` and
/// `docker import` (there is no image registry here): its applets, a passwd and group with root, and httpd's
/// /www/index.html of a given size.
/// </summary>
public static class BusyboxImage
{
    /// <summary>Builds the tree under <paramref name="work"/>/root and returns the tarball's path.</summary>
    public static string Tarball(string work, int pageBytes)
    {
        var status = Run.Command("dpkg-query", "-W", "-f=${Status}", "busybox-static");
        if (!status.Stdout.Contains("install ok installed"))
            throw new InvalidOperationException("busybox-static is not installed: this test builds a container image from it; run scripts/setup.sh (it installs the Debian package busybox-static)");
        var root = Path.Combine(work, "root");
        foreach (var dir in new[] { "bin", "etc", "www", "tmp" }) Directory.CreateDirectory(Path.Combine(root, dir));
        File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"));
        Run.Checked("chroot", root, "/bin/busybox", "--install", "-s", "/bin");
        File.WriteAllText(Path.Combine(root, "etc", "passwd"), "root:x:0:0:root:/:/bin/sh\n");
        File.WriteAllText(Path.Combine(root, "etc", "group"), "root:x:0:\n");
        // A page of its own, so the image's id is this test's alone: an import of the same bytes by another run would get
        // the same id, and removing it by id would take the other's away.
        var mark = $"attr {Environment.ProcessId} {Guid.NewGuid():N}\n";
        File.WriteAllText(Path.Combine(root, "www", "index.html"), mark + new string('x', Math.Max(0, pageBytes - mark.Length)));
        var tar = Path.Combine(work, "root.tar");
        Run.Checked("tar", "-C", root, "-cf", tar, ".");
        return tar;
    }
}
