namespace Attribution.Recorder.Executables;

/// <summary>
/// How much hashing executables may cost a recording (`record --exe-hash-max-size`, `--exe-hash-budget`;
/// docs/RECORDING.md, What it ran): no file larger than <see cref="MaxBytes"/> is read, and the hashing thread stops
/// reading once it has used <see cref="CpuBudget"/> of CPU time over the whole recording. What either leaves unhashed
/// is recorded as such (record 16), never dropped.
/// </summary>
public sealed record ExecutableHashLimits(long MaxBytes, TimeSpan CpuBudget)
{
    /// <summary>
    /// 256 MiB: larger than any single program a host normally runs (a statically linked Go or Rust service is tens of
    /// MB; a browser's main binary about 250 MB), so the cap only keeps out the pathological file. 60 s of one core for
    /// the recording: about 25 GB at the 400+ MB/s this SHA-256 hashes on the bench VM, hundreds of distinct programs.
    /// </summary>
    public static readonly ExecutableHashLimits Default = new(256L * 1024 * 1024, TimeSpan.FromSeconds(60));
}
