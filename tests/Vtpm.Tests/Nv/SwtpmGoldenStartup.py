#!/usr/bin/env python3
"""Builds the third command sequence of SwtpmGoldenTests (STCLEAR attributes, enables and DA across Resume, Restart and power loss) into cmds3.txt and, given a swtpm data port (control port = PORT+1, for CMD_INIT), records its responses (sw3.out). A line INIT is a power cycle."""
import struct, sys
OWNER=0x40000001; LOCKOUT=0x4000000A; ENDORSE=0x4000000B; PLATFORM=0x4000000C; PLATNV=0x4000000D; PW=0x40000009
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
OR=1<<17; OW=1<<1; AR=1<<18; AW=1<<2; PPR=1<<16; PPW=1; PC=1<<30; NODA=1<<25; WSTC=1<<14; WDEF=1<<13; RSTC=1<<31; CSTC=1<<27; GL=1<<15
NT=lambda t: t<<4
I=0x01500200
cmds=[]
def add(c): cmds.append(c.hex())
INIT='INIT'
SD=lambda su: cmd(0x145,[],0,struct.pack('>H',su))
SU=lambda su: cmd(0x144,[],0,struct.pack('>H',su))
DEF=0x12A; W=0x137; R=0x14E; RP=0x169
add(cmd(0x13A,[LOCKOUT],1,struct.pack('>III',1,1000,1000)))
add(cmd(DEF,[OWNER],1,b2(b'pw')+nvpub(I,AR|AW|OR|OW,8)))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|WSTC,8)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+2,OR|OW|WDEF,8)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+3,OR|OW|RSTC|CSTC,8)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+4,OR|OW|GL,8)))
add(cmd(W,[OWNER,I+2],1,b2(b'ab')+struct.pack('>H',0)))
add(cmd(W,[OWNER,I+3],1,b2(b'ab')+struct.pack('>H',0)))
for k in (1,2): add(cmd(0x138,[OWNER,I+k],1))
add(cmd(0x14F,[OWNER,I+3],1))
add(cmd(0x132,[OWNER],1))
add(cmd(0x129,[PLATFORM],1,b2(b'p')))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',OWNER,0),[b'p']))
# Resume
add(SD(1)); cmds.append(INIT); add(SU(1))
for k in range(5): add(cmd(RP,[I+k]))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',OWNER,1),[b'p']))
for k in range(5): add(cmd(RP,[I+k]))
add(cmd(R,[OWNER,I+3],1,struct.pack('>HH',2,0)))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
# Restart
add(SD(1)); cmds.append(INIT); add(SU(0))
for k in range(5): add(cmd(RP,[I+k]))
add(cmd(R,[OWNER,I+3],1,struct.pack('>HH',2,0)))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',OWNER,0),[b'p']))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',OWNER,0)))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
# disorderly: INIT without Shutdown, DA was used
cmds.append(INIT); add(SU(0))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(0x139,[LOCKOUT],1))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
# disorderly without DA use since startup? (RETRY consumed above => DA used). Orderly then:
add(SD(0)); cmds.append(INIT); add(SU(0))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
# disorderly with no DA use
add(SD(0)); cmds.append(INIT); add(SU(0))
add(cmd(W,[OWNER,I+1],1,b2(b'ab')+struct.pack('>H',0)))
cmds.append(INIT); add(SU(0))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(SU(0))
# disorderly after DA use: counted (maxTries 1 -> lockout)
cmds.append(INIT); add(SU(0))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(0x139,[LOCKOUT],1))
add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
# lockoutRecovery 0: which Startup re-enables lockoutAuth?
add(cmd(0x13A,[LOCKOUT],1,struct.pack('>III',1,1000,0)))
add(cmd(0x139,[LOCKOUT],1,b'',[b'bad']))
add(cmd(0x139,[LOCKOUT],1))
add(SD(1)); cmds.append(INIT); add(SU(1))
add(cmd(0x139,[LOCKOUT],1))
add(cmd(0x139,[LOCKOUT],1,b'',[b'bad']))
add(SD(1)); cmds.append(INIT); add(SU(0))
add(cmd(0x139,[LOCKOUT],1))
add(cmd(0x139,[LOCKOUT],1,b'',[b'bad']))
add(SD(0)); cmds.append(INIT); add(SU(0))
add(cmd(0x139,[LOCKOUT],1))
add(SD(1)); add(SD(0))
open("cmds3.txt","w").write("\n".join(cmds)+"\n")
if len(sys.argv) > 1:
    import socket
    port=int(sys.argv[1])
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
    open("sw3.out", "w").write("\n".join(out) + "\n")
