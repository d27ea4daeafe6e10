namespace Attribution.Analyzer.Flows.Names;

/// <summary>What the decoders of names skipped, counted for the analysis facts and the summary's warnings.</summary>
public sealed class NameCounts
{
    public long DnsAnswers, DnsMalformed, TlsMalformed, HttpMalformed, AnswersNotHeld, StreamGaps;

    /// <summary>One line per kind skipped, for the summary; none when nothing was.</summary>
    public IEnumerable<string> Warnings()
    {
        if (DnsMalformed > 0) yield return $"{DnsMalformed:N0} DNS responses malformed (a name over 255 bytes, a compression loop, a length past the message): their names skipped";
        if (TlsMalformed > 0) yield return $"{TlsMalformed:N0} TLS ClientHellos malformed (a lying length): their server names skipped";
        if (HttpMalformed > 0) yield return $"{HttpMalformed:N0} HTTP request heads malformed (no end within 8 KiB, an empty or over-long Host): their Host skipped";
        if (AnswersNotHeld > 0) yield return $"{AnswersNotHeld:N0} DNS answers beyond the {DnsAnswerStore.MaxHeld:N0} held at once: in the dns table, but naming no flow";
    }

    public string Text() =>
        $"dns_answers={DnsAnswers} dns_malformed={DnsMalformed} tls_malformed={TlsMalformed} http_malformed={HttpMalformed} answers_not_held={AnswersNotHeld} stream_gaps={StreamGaps}";
}
