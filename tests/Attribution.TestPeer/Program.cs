using System.Net;
using System.Net.Sockets;

// A process with known sockets for the integration tests. Every mode prints "ready" once its sockets
// exist, then keeps them open until standard input closes, so a test decides when they go away
// without sleeping. Traffic only goes where the test says: loopback or its own namespaces.
//
//   tcp-server ADDR PORT            accept connections, echo what arrives
//   tcp-client ADDR PORT BYTES      connect, send BYTES, read them back
//   udp-server ADDR PORT            receive datagrams and answer each
//   udp-send ADDR PORT COUNT        unconnected socket, COUNT datagrams of 100 bytes, read the answers
//   udp-spray ADDR P1,P2,.. COUNT   one unconnected socket, COUNT datagrams of 200 bytes to each port
//   tcp-burst ADDR PORT COUNT BYTES HOLDMS  COUNT short connections one after another, each echoing
//                                   BYTES and closing HOLDMS after
//   tcp-listen-many ADDR PORT COUNT COUNT listening sockets on PORT, PORT+1, ...

var mode = args[0];
var address = IPAddress.Parse(args[1]);
int port = int.Parse(args[2].Split(',')[0]);
var endpoint = new IPEndPoint(address, port);
var family = address.AddressFamily;
var timeout = TimeSpan.FromSeconds(20);

switch (mode)
{
    case "tcp-server":
    {
        var listener = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        if (address.Equals(IPAddress.IPv6Any)) listener.DualMode = true; // "::" takes IPv4 too, as ::ffff:a.b.c.d
        listener.Bind(endpoint);
        listener.Listen(64);
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var client = await listener.AcceptAsync();
                _ = Task.Run(async () =>
                {
                    var buffer = new byte[65536];
                    int n;
                    while ((n = await client.ReceiveAsync(buffer)) > 0) await client.SendAsync(buffer.AsMemory(0, n));
                });
            }
        });
        Ready();
        break;
    }
    case "tcp-client":
    {
        int bytes = int.Parse(args[3]);
        var client = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        if (address.IsIPv4MappedToIPv6) client.DualMode = true; // an IPv6 socket talking to ::ffff:a.b.c.d
        client.Connect(endpoint);
        var data = new byte[bytes];
        Random.Shared.NextBytes(data);
        var back = new byte[bytes];
        var send = Task.Run(() => client.Send(data));
        int got = 0;
        using var cts = new CancellationTokenSource(timeout);
        while (got < bytes) got += client.ReceiveAsync(back.AsMemory(got), cts.Token).AsTask().GetAwaiter().GetResult();
        send.Wait();
        Ready();
        break;
    }
    case "udp-server":
    {
        var server = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        if (address.Equals(IPAddress.IPv6Any)) server.DualMode = true;
        server.Bind(endpoint);
        _ = Task.Run(() =>
        {
            var buffer = new byte[2048];
            EndPoint from = new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            while (true)
            {
                int n = server.ReceiveFrom(buffer, ref from);
                server.SendTo(buffer.AsSpan(0, n), from);
            }
        });
        Ready();
        break;
    }
    case "udp-send":
    {
        int count = int.Parse(args[3]);
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0));
        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        var buffer = new byte[2048];
        for (int i = 0; i < count; i++)
        {
            socket.SendTo(new byte[100], endpoint);
            socket.Receive(buffer);
        }
        Ready();
        break;
    }
    case "udp-spray":
    {
        int count = int.Parse(args[3]);
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0));
        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        var buffer = new byte[2048];
        foreach (var target in args[2].Split(',').Select(int.Parse))
            for (int i = 0; i < count; i++)
            {
                socket.SendTo(new byte[200], new IPEndPoint(address, target));
                socket.Receive(buffer);
            }
        Ready();
        break;
    }
    case "tcp-burst":
    {
        int count = int.Parse(args[3]), bytes = int.Parse(args[4]), holdMs = int.Parse(args[5]);
        var data = new byte[bytes];
        var back = new byte[bytes];
        for (int i = 0; i < count; i++)
        {
            using var client = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(endpoint);
            client.Send(data);
            int got = 0;
            while (got < bytes) got += client.Receive(back, got, bytes - got, SocketFlags.None);
            Thread.Sleep(holdMs); // the connection's lifetime, as a short-lived client would have it
            client.Shutdown(SocketShutdown.Both);
        }
        Ready();
        break;
    }
    case "tcp-listen-many":
    {
        int count = int.Parse(args[3]);
        var listeners = new List<Socket>();
        for (int i = 0; i < count; i++)
        {
            var s = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(address, port + i));
            s.Listen(1);
            listeners.Add(s);
        }
        Ready();
        Console.In.ReadToEnd();
        listeners.ForEach(s => s.Dispose());
        return 0;
    }
    default:
        Console.Error.WriteLine($"unknown mode {mode}");
        return 2;
}

// Hold every socket until the test closes our stdin (none is disposed: the process exit closes them).
Console.In.ReadToEnd();
return 0;

static void Ready()
{
    Console.WriteLine($"ready {Environment.ProcessId}");
    Console.Out.Flush();
}
