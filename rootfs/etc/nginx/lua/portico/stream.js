// Portico's peer choice for the stream context (TCP and UDP services, TLS
// passthrough), in njs: nginx 1.22 cannot change an upstream's servers
// without a reload, and Debian has no stream Lua. Each session reads its
// service's peer file, one "address:port" per line, which the controller
// rewrites (atomically) when the endpoints change, and picks one line at
// random. An empty or missing file gives "": nginx closes the session.
// A file is a few lines: reading it costs a session ~30 us of a worker.

var fs = require('fs');

function pick(s, name) {
    var text;
    try {
        text = fs.readFileSync(s.variables.portico_peers_dir + '/' + name, 'utf8');
    } catch (e) {
        s.warn('portico: no peer file ' + name + ': ' + e.message);
        return '';
    }
    var peers = text.split('\n').filter(function (l) { return l.length > 0; });
    if (peers.length == 0) {
        s.warn('portico: ' + name + ' has no ready endpoints');
        return '';
    }
    return peers[Math.floor(Math.random() * peers.length)];
}

// peer serves a TCP or UDP service: its file is named after the protocol
// and the port, "tcp-5432".
function peer(s) {
    return pick(s, s.variables.protocol.toLowerCase() + '-' + s.variables.server_port);
}

// passthrough serves a passthrough host: its file is named by the map of
// server names ($portico_passthrough).
function passthrough(s) {
    var name = s.variables.portico_passthrough;
    if (!name) {
        return '';
    }
    return pick(s, name);
}

export default {peer, passthrough};
