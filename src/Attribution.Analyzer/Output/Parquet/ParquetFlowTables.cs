using Attribution.Analyzer.Results;
using static Attribution.Analyzer.Output.Parquet.ParquetColumns;

namespace Attribution.Analyzer.Output.Parquet;

/// <summary>
/// The tables that stream out with the packets, row by row as their rows come: `flows` (as flows end), `flow_holders`
/// and `dns` (as answers are read).
/// </summary>
internal sealed class ParquetFlowTables
{
    private readonly AddressText _text;
    private readonly ParquetTable _flows, _holders, _dns;
    private readonly ParquetColumn<long> _flowId = Integer("id"), _srcPort = Integer("src_port", nullable: true), _dstPort = Integer("dst_port", nullable: true),
        _flowPackets = Integer("packets"), _flowBytes = Integer("bytes"),
        _flowSrcProcess = Integer("src_process_id", nullable: true), _flowDstProcess = Integer("dst_process_id", nullable: true),
        _holderFlow = Integer("flow_id"), _holderProcess = Integer("process_id");
    private readonly ParquetColumn<double> _firstTs = Real("first_ts"), _lastTs = Real("last_ts");
    private readonly ParquetColumn<ReadOnlyMemory<char>> _flowProto = Text("proto", nullable: false, dictionary: true),
        _flowSrcAddr = Text("src_addr", nullable: false, dictionary: true), _flowDstAddr = Text("dst_addr", nullable: false, dictionary: true),
        _flowMethod = Text("method", dictionary: true), _srcMethod = Text("src_method", dictionary: true), _dstMethod = Text("dst_method", dictionary: true),
        _srcReason = Text("src_reason", dictionary: true), _dstReason = Text("dst_reason", dictionary: true),
        _remoteName = Text("remote_name", dictionary: true), _remoteNameSource = Text("remote_name_source", dictionary: true),
        _holderEnd = Text("end", nullable: false, dictionary: true);
    private readonly ParquetColumn<long> _dnsFrame = Integer("frame"), _dnsTsNs = Integer("ts_ns"), _dnsFlow = Integer("flow_id", nullable: true),
        _dnsAsker = Integer("asker_process_id", nullable: true), _dnsResolver = Integer("resolver_process_id", nullable: true), _dnsTtl = Integer("ttl");
    private readonly ParquetColumn<double> _dnsTs = Real("ts");
    private readonly ParquetColumn<ReadOnlyMemory<char>> _dnsQuery = Text("query", nullable: false, dictionary: true),
        _dnsName = Text("name", nullable: false, dictionary: true), _dnsType = Text("type", nullable: false, dictionary: true),
        _dnsAnswer = Text("answer", nullable: false);

    /// <param name="open">Opens a table of the sink's (in its partial folder, disposed with it).</param>
    public ParquetFlowTables(Func<string, ParquetColumn[], ParquetTable> open, AddressText text)
    {
        _text = text;
        _flows = open("flows", [_flowId, _flowProto, _flowSrcAddr, _srcPort, _flowDstAddr, _dstPort, _firstTs, _lastTs, _flowPackets, _flowBytes,
            _flowSrcProcess, _flowDstProcess, _flowMethod, _srcMethod, _dstMethod, _srcReason, _dstReason, _remoteName, _remoteNameSource]);
        _holders = open("flow_holders", [_holderFlow, _holderEnd, _holderProcess]);
        _dns = open("dns", [_dnsFrame, _dnsTs, _dnsTsNs, _dnsFlow, _dnsAsker, _dnsResolver, _dnsQuery, _dnsName, _dnsType, _dnsAnswer, _dnsTtl]);
    }

    public void Flow(FlowRow f)
    {
        _flowId.Add(f.Id);
        _flowProto.Add(Words.Protocol(4, f.Protocol));
        _flowSrcAddr.Add(_text.Of(f.Source));
        _srcPort.Add(f.SourcePort);
        _flowDstAddr.Add(_text.Of(f.Destination));
        _dstPort.Add(f.DestinationPort);
        _firstTs.Time(f.FirstNs);
        _lastTs.Time(f.LastNs);
        _flowPackets.Add(f.Packets);
        _flowBytes.Add(f.Bytes);
        _flowSrcProcess.Add(f.SourceProcess == 0 ? null : f.SourceProcess);
        _flowDstProcess.Add(f.DestinationProcess == 0 ? null : f.DestinationProcess);
        _flowMethod.Add(Words.Pair(f.SourceMethod, f.DestinationMethod));
        _srcMethod.Add(f.SourceMethod.Name());
        _dstMethod.Add(f.DestinationMethod.Name());
        _srcReason.Add(f.SourceReason.Name());
        _dstReason.Add(f.DestinationReason.Name());
        _remoteName.Add(f.RemoteName);
        _remoteNameSource.Add(f.RemoteNameSource.Name());
        _flows.EndRow();
        Holders(f.Id, "src", f.SourceHolders);
        Holders(f.Id, "dst", f.DestinationHolders);
    }

    private void Holders(long flow, string end, IReadOnlyCollection<int> holders)
    {
        foreach (int holder in holders)
        {
            _holderFlow.Add(flow);
            _holderEnd.Add(end);
            _holderProcess.Add(holder);
            _holders.EndRow();
        }
    }

    public void Dns(DnsRow d)
    {
        _dnsFrame.Add(d.Frame); _dnsTs.Time(d.TimestampNs); _dnsTsNs.Add(d.TimestampNs); _dnsFlow.Add(d.FlowId == 0 ? null : d.FlowId);
        _dnsAsker.Add(d.AskerProcess == 0 ? null : d.AskerProcess); _dnsResolver.Add(d.ResolverProcess == 0 ? null : d.ResolverProcess);
        _dnsQuery.Add(d.Query); _dnsName.Add(d.Name); _dnsType.Add(d.Type); _dnsAnswer.Add(d.Address is { } a ? _text.Of(a) : d.Target ?? "");
        _dnsTtl.Add(d.Ttl);
        _dns.EndRow();
    }
}
