namespace Attribution.Core.Sidecar;

/// <summary>
/// Record 13: a user id and the name the recorded host gave it, through its own name service (NSS: files, LDAP, sssd,
/// systemd's dynamic users), not the analyst's /etc/passwd. <see cref="Found"/> false: the host knew no such user
/// (<see cref="Name"/> empty). Written once per uid and file, for the real uid and the login uid of the processes recorded.
/// </summary>
public sealed record UserRecord(uint Uid, bool Found, string Name, long ReadNanoseconds) : SidecarRecord;
