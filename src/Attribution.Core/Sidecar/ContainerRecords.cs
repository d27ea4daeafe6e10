namespace Attribution.Core.Sidecar;

/// <summary>Which part of a runtime's file a <see cref="ContainerSource"/> holds.</summary>
public enum ContainerSourcePart : byte
{
    /// <summary>
    /// An object of the members of the file's top-level object that name the container, each value byte for byte: an OCI
    /// runtime config.json's "annotations" (not the rest of the spec); Docker's config.v2.json's "Name", "Image" and
    /// "Config" with only its "Image", "Labels" and "Hostname" (not its "Env", which may hold secrets).
    /// </summary>
    Members = 0,
    /// <summary>
    /// The element of the file's top-level array whose "id" is the container's, byte for byte (containers/storage's
    /// containers.json, which lists every container of the store: the others are not this container's evidence).
    /// </summary>
    ArrayElement = 1,
    /// <summary>No content: the path's last component is the evidence (Kubernetes' /var/log/pods/NAMESPACE_POD_UID, /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log).</summary>
    PathName = 2,
}

/// <summary>
/// One thing a container runtime keeps on the host about a container, as read: the file (or directory) and the bytes of
/// it that name the container. <see cref="Truncated"/>: the part was longer than the recorder keeps, and
/// <see cref="Content"/> is its beginning only.
/// </summary>
public sealed record ContainerSource(ContainerSourcePart Part, string Path, bool Truncated, byte[] Content);

/// <summary>
/// Record 11: what the runtimes keep on the host about a container a process ran in, read once per container (by the
/// id its cgroup names) while it existed, and written into each sidecar file whose processes ran in it: its name,
/// image and labels, its pod, outlive the container in the recording. <see cref="Runtime"/> is the runtime the cgroup
/// path named ("" if none); <see cref="Sources"/> is empty when no runtime's files named the id.
/// </summary>
public sealed record ContainerRecord(string Id, string Runtime, long ReadNanoseconds, IReadOnlyList<ContainerSource> Sources) : SidecarRecord;
