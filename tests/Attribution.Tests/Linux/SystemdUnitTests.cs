using Attribution.Core.Linux;

namespace Attribution.Tests.Linux;

/// <summary>
/// The systemd unit or scope of a process from its /proc/PID/cgroup as a host shows it (cgroup v2, or the name=systemd
/// hierarchy of v1 and hybrid hosts): the innermost one, none where the process is in no unit (the root, a bare
/// container cgroup).
/// </summary>
public sealed class SystemdUnitTests
{
    [Theory]
    [InlineData("0::/system.slice/ssh.service\n", "ssh.service")]
    [InlineData("0::/user.slice/user-1000.slice/session-7.scope\n", "session-7.scope")]
    [InlineData("0::/system.slice/attr-ancestry-1-2.service\n", "attr-ancestry-1-2.service")]
    [InlineData("0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-42.scope\n", "app-gnome-firefox-42.scope")]
    [InlineData("12:memory:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n0::/system.slice/cron.service\n", "cron.service")]
    [InlineData("1:name=systemd:/system.slice/docker-3f2a9c1b.scope\n", "docker-3f2a9c1b.scope")]
    [InlineData("0::/\n", null)]
    [InlineData("0::/docker/3f2a9c1b7d0e\n", null)]
    [InlineData("", null)]
    public void The_innermost_unit_is_named(string cgroup, string? unit) => Assert.Equal(unit, SystemdUnit.FromCgroup(cgroup));
}
