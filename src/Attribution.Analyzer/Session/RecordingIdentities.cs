using System.Security.Cryptography;
using System.Text;
using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Session;

/// <summary>
/// The recording's identity in the output: its host name and boot id (from the sidecar header) and a capture
/// id, so the outputs of several hosts, or of one host over several boots, can be put side by side. The
/// capture id names one recording and stays the same however often it is analysed: the first 16 hex digits
/// of SHA-256 over the sidecar's boot id, recorder pid and start time; without a sidecar, of the first
/// capture file's SHA-256.
/// </summary>
internal static class RecordingIdentities
{
    public static RecordingIdentity Of(EvidenceIndex evidence, IReadOnlyList<CaptureProvenance> files)
    {
        if (evidence.Header is { } h)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{h.BootId}/{h.RecorderPid}/{h.StartNanoseconds}"));
            return new RecordingIdentity(h.Hostname, h.BootId, Convert.ToHexStringLower(hash)[..16]);
        }
        return new RecordingIdentity(null, null, files.Count > 0 ? files[0].Sha256[..16] : "");
    }
}
