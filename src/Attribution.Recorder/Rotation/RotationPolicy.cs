namespace Attribution.Recorder.Rotation;

/// <summary>
/// A ring buffer, as dumpcap's `-b`: a new capture file (and sidecar) once the current one holds
/// <see cref="SizeBytes"/> or has been open for <see cref="Every"/>, whichever comes first; with
/// <see cref="Files"/>, only that many files are kept, the oldest deleted with its sidecar.
/// </summary>
public sealed record RotationPolicy(long? SizeBytes, TimeSpan? Every, int? Files)
{
    /// <summary>Below this a file holds little more than its headers and a snapshot.</summary>
    public const long MinSizeBytes = 1000;
    public static readonly TimeSpan MinEvery = TimeSpan.FromSeconds(1);

    public bool Rotates => SizeBytes is not null || Every is not null;

    /// <summary>Refuses what dumpcap refuses, with the option's name in the message.</summary>
    public void Validate()
    {
        if (SizeBytes is < MinSizeBytes) throw new ArgumentException($"--rotate-size must be at least 1kB (got {SizeBytes} bytes)");
        if (Every is { } every && every < MinEvery) throw new ArgumentException($"--rotate-every must be at least 1s (got {every.TotalMilliseconds} ms)");
        if (Files is < 1) throw new ArgumentException("--rotate-files must be at least 1");
        // As dumpcap's "-b files:N" alone: without a size or a duration no file is ever closed, so there is nothing to keep N of.
        if (Files is not null && !Rotates)
            throw new ArgumentException("--rotate-files needs --rotate-size or --rotate-every: without either, no file is ever closed and there is no ring to keep files of");
    }
}
