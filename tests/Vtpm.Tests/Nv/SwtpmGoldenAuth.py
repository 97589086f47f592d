#!/usr/bin/env python3
"""Builds the second command sequence of SwtpmGoldenTests (DA, PIN, enables, locks) into cmds2.txt and, given a swtpm data port, records its responses (sw2.out)."""
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
OR=1<<17; OW=1<<1; AR=1<<18; AW=1<<2; PPR=1<<16; PPW=1; PC=1<<30; NODA=1<<25; PD=1<<10; GL=1<<15
NT=lambda t: t<<4
I=0x01500100
cmds=[]
def add(c): cmds.append(c.hex())
DEF=0x12A; W=0x137; R=0x14E; RP=0x169
add(cmd(0x129,[LOCKOUT],1,b2(b'l')))
add(cmd(0x139,[LOCKOUT],1,b'',[b'bad']))
add(cmd(0x139,[LOCKOUT],1,b'',[b'l']))
add(cmd(0x126,[LOCKOUT],1,b'',[b'l']))
add(cmd(DEF,[OWNER],1,b2(b'pw')+nvpub(I,AR|AW|OR|OW,8)))
for pw in [b'bad',b'bad',b'bad',b'bad',b'pw']:
    add(cmd(W,[I,I],1,b2(b'ab')+struct.pack('>H',0),[pw]))
add(cmd(R,[OWNER,I],1,struct.pack('>HH',2,0)))
add(cmd(DEF,[OWNER],1,b2(b'pw')+nvpub(I+1,AR|AW|OR|OW|NODA,8)))
add(cmd(W,[I+1,I+1],1,b2(b'ab')+struct.pack('>H',0),[b'bad']))
add(cmd(W,[I+1,I+1],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(DEF,[OWNER],1,b2(b'pin')+nvpub(I+2,OR|OW|AR|NODA|NT(8),8)))
add(cmd(R,[I+2,I+2],1,struct.pack('>HH',8,0),[b'pin']))
add(cmd(W,[OWNER,I+2],1,b2(struct.pack('>II',0,2))+struct.pack('>H',0)))
for pw in [b'pin',b'bad',b'pin',b'bad',b'bad',b'pin']:
    add(cmd(R,[I+2,I+2],1,struct.pack('>HH',8,0),[pw]))
add(cmd(R,[OWNER,I+2],1,struct.pack('>HH',8,0)))
add(cmd(DEF,[OWNER],1,b2(b'pin')+nvpub(I+3,OR|OW|AR|NODA|NT(9),8)))
add(cmd(W,[OWNER,I+3],1,b2(struct.pack('>II',0,2))+struct.pack('>H',0)))
for pw in [b'pin',b'bad',b'pin',b'pin']:
    add(cmd(R,[I+3,I+3],1,struct.pack('>HH',8,0),[pw]))
add(cmd(R,[OWNER,I+3],1,struct.pack('>HH',8,0)))
add(cmd(DEF,[PLATFORM],1,b2(b'')+nvpub(I+4,PPR|PPW|PC|PD,8,pol=b'\x11'*32)))
add(cmd(0x122,[PLATFORM,I+4],1))
add(cmd(0x11F,[I+4,PLATFORM],2))
add(cmd(RP,[I+4]))
add(cmd(0x13B,[I+1],1,b2(b'new'),[b'pw']))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+5,OR|OW|GL,8)))
add(cmd(0x132,[PLATFORM],1))
add(cmd(RP,[I+5]))
add(cmd(W,[OWNER,I+5],1,b2(b'ab')+struct.pack('>H',0)))
add(cmd(R,[PLATFORM,I+1],1,struct.pack('>HH',2,0)))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',OWNER,0)))
add(cmd(RP,[I+1]))
add(cmd(R,[OWNER,I+1],1,struct.pack('>HH',2,0)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+6,OR|OW,8)))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',OWNER,1)))
add(cmd(RP,[I+1]))
add(cmd(DEF,[PLATFORM],1,b2(b'')+nvpub(I+7,PPR|PPW|PC,8)))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',PLATNV,0)))
add(cmd(RP,[I+7]))
add(cmd(DEF,[PLATFORM],1,b2(b'')+nvpub(I+8,PPR|PPW|PC,8)))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',ENDORSE,0)))
add(cmd(0x129,[ENDORSE],1,b2(b'e')))
add(cmd(0x12E,[LOCKOUT],1,b2(b'\x22'*32)+struct.pack('>H',0x0B),[b'l']))
add(cmd(0x12E,[PLATFORM],1,b2(b'\x22'*48)+struct.pack('>H',0x0C)))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',PLATFORM,0)))
add(cmd(0x12E,[PLATFORM],1,b2(b'')+struct.pack('>H',0x10)))
add(cmd(0x126,[PLATFORM],1))
add(cmd(RP,[I]))
add(cmd(0x129,[OWNER],1,b2(b'o')))
add(cmd(0x139,[LOCKOUT],1,b'',[b'l']))
add(cmd(0x12A,[OWNER],1,b2(b'')+nvpub(I+9,OR|OW,8),[b'o']))
add(cmd(0x122,[OWNER,I+9],1,b'',[b'bad']))
add(cmd(0x122,[OWNER,I+9],1,b'',[b'o']))
add(cmd(0x124,[PLATFORM],1))
open("cmds2.txt","w").write("\n".join(cmds)+"\n")
if len(sys.argv) > 1:
    import socket
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    out = []
    for c in cmds:
        s.sendall(bytes.fromhex(c))
        hdr = b""
        while len(hdr) < 10: hdr += s.recv(10 - len(hdr))
        n = int.from_bytes(hdr[2:6], "big"); rest = b""
        while len(rest) < n - 10: rest += s.recv(n - 10 - len(rest))
        out.append((hdr + rest).hex())
    open("sw2.out", "w").write("\n".join(out) + "\n")
