"""Shared pieces of the SwtpmGolden*.py recorders: TPM 2.0 command builders (password sessions only),
TPMA_NV bits, and the replay against a running swtpm (data port P, control port P+1)."""
import socket, struct

OWNER=0x40000001; LOCKOUT=0x4000000A; ENDORSE=0x4000000B; PLATFORM=0x4000000C; PLATNV=0x4000000D; PW=0x40000009
# TPMA_NV bits (Part 2 §13.4) and TPM_NT in bits 4..7.
OR=1<<17; OW=1<<1; AR=1<<18; AW=1<<2; PPR=1<<16; PPW=1; PC=1<<30; NODA=1<<25; PD=1<<10; GL=1<<15
WSTC=1<<14; WDEF=1<<13; RSTC=1<<31; CSTC=1<<27
NT=lambda t: t<<4
# Marker line in a command list: power-cycle the TPM with swtpm's CMD_INIT on the control channel.
INIT='INIT'

def cmd(cc, handles=(), nauth=0, params=b'', auths=None):
    body=b''.join(struct.pack('>I',h) for h in handles)
    tag=0x8001
    if nauth:
        tag=0x8002
        auths = auths or [b'']*nauth
        area=b''.join(struct.pack('>IHBH',PW,0,1,len(a))+a for a in auths)
        body+=struct.pack('>I',len(area))+area
    body+=params
    return struct.pack('>HII',tag,10+len(body),cc)+body

def b2(b): return struct.pack('>H',len(b))+b

def nvpub(idx, attrs, size, alg=0x0B, pol=b''):
    return b2(struct.pack('>IHI',idx,alg,attrs)+b2(pol)+struct.pack('>H',size))

def record(cmds, commands_file, argv, responses_file):
    """Writes the command list; given a port in argv, replays it against swtpm and writes the responses."""
    open(commands_file,"w").write("\n".join(cmds)+"\n")
    if len(argv) < 2: return
    port=int(argv[1])
    s = socket.create_connection(("127.0.0.1", port))
    out = []
    for c in cmds:
        if c == INIT:
            s.close()
            ctl = socket.create_connection(("127.0.0.1", port+1))
            ctl.sendall(struct.pack('>II', 2, 0))
            resp = ctl.recv(4); ctl.close()
            out.append('INIT' + resp.hex())
            s = socket.create_connection(("127.0.0.1", port))
            continue
        s.sendall(bytes.fromhex(c))
        hdr = b""
        while len(hdr) < 10: hdr += s.recv(10 - len(hdr))
        n = int.from_bytes(hdr[2:6], "big"); rest = b""
        while len(rest) < n - 10: rest += s.recv(n - 10 - len(rest))
        out.append((hdr + rest).hex())
    open(responses_file, "w").write("\n".join(out) + "\n")
